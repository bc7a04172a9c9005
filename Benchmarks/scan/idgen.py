"""Checksum helpers for synthetic identifiers (Chinese resident ID, Kazakh IIN/BIN). Synthetic data only."""

W18 = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def cn_check(d17):
    return "10X98765432"[sum(int(c) * w for c, w in zip(d17, W18)) % 11]


def cn18(d17):
    return d17 + cn_check(d17)


def cn15to18(d15):
    return cn18(d15[:6] + "19" + d15[6:])


def iin_check(d11):
    s = sum(int(c) * w for c, w in zip(d11, range(1, 12))) % 11
    if s == 10:
        s = sum(int(c) * w for c, w in zip(d11, [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2])) % 11
        if s == 10:
            return None
    return str(s)


def iin(d11):
    c = iin_check(d11)
    return None if c is None else d11 + c


if __name__ == "__main__":
    for v in ["11010519491231002X", "440524188001010014", "65010219800101139X", "650102198001011234", "650102198001011235"]:
        print(v, cn18(v[:17]) == v)
    print(cn15to18("650102800101123"))
    for v in ["910317300003", "910317300400", "700140000019"]:
        print(v, iin(v[:11]) == v)
