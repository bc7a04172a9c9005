/// A date found in the text (whether it is a date of birth is decided from the context).
struct DateMatch {
    var start: Int
    var end: Int
    var year: Int
    var month: Int
    var day: Int

    /// Writes the value `YYYY-MM-DD` (10 bytes); returns 10.
    func write(to out: UnsafeMutablePointer<UInt8>) -> Int {
        func digits(_ value: Int, _ count: Int, _ at: Int) {
            var v = value
            for k in stride(from: count - 1, through: 0, by: -1) {
                out[at + k] = UInt8(0x30 + v % 10)
                v /= 10
            }
        }
        digits(year, 4, 0)
        out[4] = 0x2D
        digits(month, 2, 5)
        out[7] = 0x2D
        digits(day, 2, 8)
        return 10
    }
}

/// Month names: Russian genitive, Kazakh, English (full and abbreviated; English matched case-insensitively).
enum MonthNames {
    static let cyrillic: [([UInt8], Int)] = {
        let russian = [
            "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
            "октября", "ноября", "декабря",
        ]
        let kazakh = [
            "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек",
            "қазан", "қараша", "желтоқсан",
        ]
        var list: [([UInt8], Int)] = []
        for (index, name) in russian.enumerated() { list.append((Array(name.utf8), index + 1)) }
        for (index, name) in kazakh.enumerated() { list.append((Array(name.utf8), index + 1)) }
        return list
    }()
    static let english: [([UInt8], Int)] = {
        let full = [
            "january", "february", "march", "april", "may", "june", "july", "august", "september",
            "october", "november", "december",
        ]
        var list: [([UInt8], Int)] = []
        for (index, name) in full.enumerated() { list.append((Array(name.utf8), index + 1)) }
        list.append((Array("sept".utf8), 9))
        for (index, name) in full.enumerated() where name.count > 3 {
            list.append((Array(name.utf8.prefix(3)), index + 1))
        }
        return list
    }()
}

extension ScanWorker {
    // MARK: Dates

    /// Reads up to 5 digits (folded) at `i`, skipping ignorable code points before and between them; Chinese
    /// numerals and other digits are not mixed in one number. `next` is the end of the last digit.
    @inline(__always)
    func readNumber(_ i: Int) -> (value: Int, count: Int, next: Int) {
        var value = 0
        var count = 0
        var k = skipIgnorables(i)
        var next = k
        var han = false
        while k < n && count < 5 {
            let b = p[k]
            let (code, l) = b < 0x80 ? (b, 1) : classify(k)
            if code == Normalization.ignorable && count > 0 {
                k += l
                continue
            }
            let isHan = code >= Normalization.hanZero
            let c = isHan ? code &- (Normalization.hanZero &- 0x30) : code
            guard Normalization.isDigit(c), count == 0 || isHan == han else { break }
            han = isHan
            value = value * 10 + Int(c &- 0x30)
            count += 1
            k += l
            next = k
        }
        return (value, count, next)
    }

    /// The folded character at `k` after any ignorable code points, and the position after it.
    @inline(__always)
    func separator(_ k: Int) -> (char: UInt8, next: Int) {
        let at = skipIgnorables(k)
        guard at < n else { return (0, at) }
        let (c, l) = foldFast(at)
        return (c, at + l)
    }

    @inline(__always)
    func bytesMatch(_ k: Int, _ b0: UInt8, _ b1: UInt8, _ b2: UInt8) -> Bool {
        k + 2 < n && p[k] == b0 && p[k + 1] == b1 && p[k + 2] == b2
    }

    /// Skips up to two spaces (folded: every `Zs` space and tab), and ignorable code points before each.
    @inline(__always)
    func skipSpaces(_ k: Int) -> Int {
        var k = k
        var count = 0
        while count < 2 {
            let at = skipIgnorables(k)
            guard at < n else { break }
            let (c, l) = fold(at)
            guard c == 0x20 else { break }
            k = at + l
            count += 1
        }
        return k
    }

    func makeDate(_ start: Int, _ end: Int, _ year: Int, _ month: Int, _ day: Int) -> DateMatch? {
        guard year >= 1800 && year <= 2099, DateValidation.isReal(year: year, month: month, day: day) else {
            return nil
        }
        return DateMatch(start: start, end: end, year: year, month: month, day: day)
    }

    /// A date starting at the digit run at `i` (or, for `March 17, 1991`, at the month name before it).
    func matchDate(_ i: Int) -> DateMatch? {
        let (v1, c1, e1) = readNumber(i)
        guard e1 < n else { return nil }
        if c1 == 4 {
            let (s, afterS) = separator(e1)
            if s == 0x2D || s == 0x2E || s == 0x2F {
                let (month, cm, em) = readNumber(afterS)
                let (s2, afterS2) = separator(em)
                guard cm >= 1 && cm <= 2, s2 == s else { return nil }
                let (day, cd, ed) = readNumber(afterS2)
                guard cd >= 1 && cd <= 2 else { return nil }
                return makeDate(i, ed, v1, month, day)
            }
            var k = skipSpaces(e1)
            if bytesMatch(k, 0xE5, 0xB9, 0xB4) {  // 年
                k = skipSpaces(k + 3)
                let (month, cm, em) = readNumber(k)
                guard cm >= 1 && cm <= 2 else { return nil }
                k = skipSpaces(em)
                guard bytesMatch(k, 0xE6, 0x9C, 0x88) else { return nil }  // 月
                k = skipSpaces(k + 3)
                let (day, cd, ed) = readNumber(k)
                guard cd >= 1 && cd <= 2 else { return nil }
                k = skipSpaces(ed)
                guard bytesMatch(k, 0xE6, 0x97, 0xA5) || bytesMatch(k, 0xE5, 0x8F, 0xB7) else { return nil }  // 日 号
                return makeDate(i, k + 3, v1, month, day)
            }
            // Kazakh: 1991 жылғы 17 наурыз, 1991 ж. 17 наурыз
            if k > e1, let after = kazakhYearWord(k) {
                let d = skipSpaces(after)
                let (day, cd, ed) = readNumber(d)
                guard cd >= 1 && cd <= 2 else { return nil }
                let m = skipSpaces(ed)
                guard m > ed, let (month, length) = monthName(m) else { return nil }
                return makeDate(i, m + length, v1, month, day)
            }
            return nil
        }
        guard c1 == 1 || c1 == 2 else { return nil }
        let (s, afterS) = separator(e1)
        if s == 0x2E || s == 0x2F || s == 0x2D {
            let (month, cm, em) = readNumber(afterS)
            let (s2, afterS2) = separator(em)
            guard cm >= 1 && cm <= 2, s2 == s else { return nil }
            let (year, cy, ey) = readNumber(afterS2)
            guard cy == 4 else { return nil }
            return makeDate(i, ey, year, month, v1)
        }
        if s == 0x20 {
            let k = skipSpaces(e1)
            if let (month, length) = monthName(k) {
                var k2 = k + length
                if k2 < n && p[k2] == 0x2E { k2 += 1 }
                if k2 < n && p[k2] == 0x2C { k2 += 1 }
                let k3 = skipSpaces(k2)
                guard k3 > k2 else { return nil }
                let (year, cy, ey) = readNumber(k3)
                guard cy == 4 else { return nil }
                return makeDate(i, ey, year, month, v1)
            }
        }
        if let (month, monthStart) = englishMonthBefore(i) {
            var k = e1
            if k + 1 < n {
                let a = p[k] | 0x20
                let b = p[k + 1] | 0x20
                if (a == 0x73 && b == 0x74) || (a == 0x6E && b == 0x64) || (a == 0x72 && b == 0x64)
                    || (a == 0x74 && b == 0x68)
                {
                    k += 2
                }
            }
            if k < n && p[k] == 0x2C { k += 1 }
            let k2 = skipSpaces(k)
            guard k2 > k else { return nil }
            let (year, cy, ey) = readNumber(k2)
            guard cy == 4 else { return nil }
            return makeDate(monthStart, ey, year, month, v1)
        }
        return nil
    }

    func kazakhYearWord(_ k: Int) -> Int? {
        for word in ScanWorker.kazakhYearWords where k + word.count <= n {
            var same = true
            for m in 0..<word.count where p[k + m] != word[m] {
                same = false
                break
            }
            if same { return k + word.count }
        }
        return nil
    }

    static let kazakhYearWords: [[UInt8]] = ["жылғы", "жылы", "ж."].map { Array($0.utf8) }

    /// Whether the byte at `k` continues a word (ASCII letter or a Cyrillic lead byte).
    @inline(__always)
    func continuesWord(_ k: Int) -> Bool {
        guard k < n else { return false }
        let b = p[k]
        return (b | 0x20) &- 0x61 < 26 || (b >= 0xD0 && b <= 0xD4)
    }

    /// A month name at `k`, followed by a non-letter.
    func monthName(_ k: Int) -> (Int, Int)? {
        guard k < n else { return nil }
        if p[k] >= 0xD0 {
            for (name, month) in MonthNames.cyrillic where k + name.count <= n {
                var same = true
                for m in 0..<name.count where p[k + m] != name[m] {
                    same = false
                    break
                }
                if same && !continuesWord(k + name.count) { return (month, name.count) }
                // Kazakh case endings (наурызда, қаңтарда…): up to three more Cyrillic letters.
                if same {
                    var e = k + name.count
                    var letters = 0
                    while letters < 3 && e + 1 < n && (p[e] == 0xD0 || p[e] == 0xD1 || p[e] == 0xD2 || p[e] == 0xD3) {
                        e += 2
                        letters += 1
                    }
                    if letters > 0 && !continuesWord(e) { return (month, name.count) }
                }
            }
            return nil
        }
        for (name, month) in MonthNames.english where k + name.count <= n {
            var same = true
            for m in 0..<name.count where p[k + m] | 0x20 != name[m] {
                same = false
                break
            }
            if same && !continuesWord(k + name.count) { return (month, name.count) }
        }
        return nil
    }

    /// For `March 17, 1991`: an English month name (optionally abbreviated with a dot) and one space before `i`.
    func englishMonthBefore(_ i: Int) -> (Int, Int)? {
        guard i >= 4, p[i - 1] == 0x20 else { return nil }
        var e = i - 1
        if p[e - 1] == 0x2E { e -= 1 }
        var s = e
        while s > 0 && e - s < 9 && (p[s - 1] | 0x20) &- 0x61 < 26 { s -= 1 }
        guard s < e, s == 0 || (p[s - 1] | 0x20) &- 0x61 >= 26 else { return nil }
        for (name, month) in MonthNames.english where name.count == e - s {
            var same = true
            for m in 0..<name.count where p[s + m] | 0x20 != name[m] {
                same = false
                break
            }
            if same { return (month, s) }
        }
        return nil
    }

    /// Whether a clause barrier (punctuation that ends a clause, or a line break) starts at `k`. Looking forward
    /// (`includingComma`), commas and a full stop before a space also end the search; looking back they do not
    /// (abbreviations such as `рожд.` and `г.р.` end in a dot).
    @inline(__always)
    func isBarrier(_ k: Int, includingComma: Bool) -> Bool {
        let b = p[k]
        switch b {
        case 0x0A, 0x21, 0x3B, 0x3F: return true
        case 0x2C: return includingComma
        case 0x2E: return includingComma && (k + 1 >= n || p[k + 1] == 0x20 || p[k + 1] == 0x0A)
        case 0xEF:
            return bytesMatch(k, 0xEF, 0xBC, 0x9B) || bytesMatch(k, 0xEF, 0xBC, 0x81) || bytesMatch(k, 0xEF, 0xBC, 0x9F)
                || (includingComma && bytesMatch(k, 0xEF, 0xBC, 0x8C))
        case 0xE3: return bytesMatch(k, 0xE3, 0x80, 0x82) || (includingComma && bytesMatch(k, 0xE3, 0x80, 0x81))
        default: return false
        }
    }

    /// A date is a date of birth when the nearest context word in its clause (64 bytes before, 40 after; an
    /// earlier year or other number in between cuts the search) is a birth word, not an event word such as
    /// "arrested".
    func isBirthContext(_ start: Int, _ end: Int) -> Bool {
        let birthWords = ContextWords.birth
        let eventWords = ContextWords.event
        var before: (birth: Bool, distance: Int)?
        var k = start - 1
        var run = 0
        let low = max(0, start - 64)
        while k >= low {
            if isBarrier(k, includingComma: false) { break }
            if Normalization.isDigit(p[k]) {
                run += 1
                if run >= 4 { break }
            } else {
                run = 0
            }
            var length = birthWords.match(p, at: k, end: start)
            if length > 0 {
                before = (true, start - k - length)
                break
            }
            length = eventWords.match(p, at: k, end: start)
            if length > 0 {
                before = (false, start - k - length)
                break
            }
            k -= 1
        }
        var after: (birth: Bool, distance: Int)?
        k = end
        run = 0
        let high = min(n, end + 40)
        while k < high {
            if isBarrier(k, includingComma: true) { break }
            if Normalization.isDigit(p[k]) {
                run += 1
                if run >= 4 { break }
            } else {
                run = 0
            }
            if birthWords.match(p, at: k, end: n) > 0 {
                after = (true, k - end)
                break
            }
            if eventWords.match(p, at: k, end: n) > 0 {
                after = (false, k - end)
                break
            }
            k += 1
        }
        switch (before, after) {
        case (nil, nil): return false
        case (let b?, nil): return b.birth
        case (nil, let a?): return a.birth
        case (let b?, let a?): return b.distance <= a.distance ? b.birth : a.birth
        }
    }

    // MARK: E-mail

    @inline(__always) func isLocalPart(_ b: UInt8) -> Bool {
        isASCIIAlnum(b) || b == 0x2E || b == 0x5F || b == 0x25 || b == 0x2B || b == 0x2D
    }

    @inline(__always) func isDomainPart(_ b: UInt8) -> Bool { isASCIIAlnum(b) || b == 0x2E || b == 0x2D }

    /// An e-mail address around the `@` at `i`; returns where to continue.
    func email(at i: Int) -> Int {
        var s = i
        while s > 0 && i - s < 64 && isLocalPart(p[s - 1]) { s -= 1 }
        while s < i && p[s] == 0x2E { s += 1 }
        guard s < i, p[i - 1] != 0x2E else { return i + 1 }
        var e = i + 1
        while e < n && e - i < 255 && isDomainPart(p[e]) { e += 1 }
        while e > i + 1 && (p[e - 1] == 0x2E || p[e - 1] == 0x2D) { e -= 1 }
        var lastDot = -1
        var k = e - 1
        while k > i {
            if p[k] == 0x2E {
                lastDot = k
                break
            }
            k -= 1
        }
        guard lastDot > i + 1, e - lastDot - 1 >= 2 else { return i + 1 }
        for m in (lastDot + 1)..<e where (p[m] | 0x20) &- 0x61 >= 26 { return i + 1 }
        emit(.email, s..<e, maxLength: e - s) { out in
            for m in 0..<(e - s) {
                let b = p[s + m]
                out[m] = b &- 0x41 < 26 ? b | 0x20 : b
            }
            return e - s
        }
        return e
    }

    // MARK: WeChat

    /// The length of a WeChat keyword at `i` (0 if none) and whether it is a two-letter abbreviation.
    func wechatKeyword(_ i: Int) -> (Int, Bool) {
        let b = p[i]
        if b == 0xE5 || b == 0xE8 {
            if bytesMatch(i, 0xE5, 0xBE, 0xAE) || bytesMatch(i, 0xE5, 0xA8, 0x81) || bytesMatch(i, 0xE8, 0x96, 0x87) {
                if bytesMatch(i + 3, 0xE4, 0xBF, 0xA1) { return (6, false) }
            }
            return (0, false)
        }
        let lower = b | 0x20
        if i > 0 && isASCIIAlnum(p[i - 1]) { return (0, false) }
        if lower == 0x76 && bytesMatch(i + 1, 0xE4, 0xBF, 0xA1) { return (4, false) }
        guard i + 1 < n else { return (0, false) }
        let next = p[i + 1] | 0x20
        if next == 0x78 && (i + 2 >= n || !isASCIIAlnum(p[i + 2])) { return (2, true) }
        if lower == 0x77 && i + 6 <= n {
            let word = (p[i + 1] | 0x20, p[i + 2] | 0x20, p[i + 3] | 0x20, p[i + 4] | 0x20, p[i + 5] | 0x20)
            if word == (0x65, 0x63, 0x68, 0x61, 0x74) || word == (0x65, 0x69, 0x78, 0x69, 0x6E) { return (6, false) }
        }
        return (0, false)
    }

    @inline(__always) func isWeChatCharacter(_ b: UInt8) -> Bool { isASCIIAlnum(b) || b == 0x5F || b == 0x2D }

    /// A WeChat ID after a keyword at `i`; returns where to continue.
    func wechat(at i: Int) -> Int {
        let (length, short) = wechatKeyword(i)
        guard length > 0 else { return i + 1 }
        var k = i + length
        var explicit = false
        var spaced = false
        while k < n && k - i - length < 24 {
            let b = p[k]
            if b == 0x20 || b == 0x09 {
                spaced = true
                k += 1
            } else if b == 0x3A || b == 0x3D {
                explicit = true
                k += 1
            } else if b == 0x2D || b == 0x28 {
                k += 1
            } else if bytesMatch(k, 0xEF, 0xBC, 0x9A) || bytesMatch(k, 0xE5, 0x8F, 0xB7)
                || bytesMatch(k, 0xE6, 0x98, 0xAF)
                || bytesMatch(k, 0xE4, 0xB8, 0xBA) || bytesMatch(k, 0xE7, 0x82, 0xBA) || bytesMatch(k, 0xE8, 0x99, 0x9F)
                || bytesMatch(k, 0xE5, 0xB8, 0x90) || bytesMatch(k, 0xE5, 0xB8, 0xB3) || bytesMatch(k, 0xE8, 0xB4, 0xA6)
            {
                explicit = true
                k += 3
            } else if bytesMatch(k, 0xEF, 0xBC, 0x88) {
                k += 3
            } else if k + 2 < n, (b | 0x20) == 0x69, (p[k + 1] | 0x20) == 0x64, !isWeChatCharacter(p[k + 2]) {
                explicit = true
                k += 2
            } else {
                break
            }
        }
        if short && !(explicit || spaced) { return i + length }
        guard k < n, (p[k] | 0x20) &- 0x61 < 26 else { return max(k, i + 1) }
        var e = k
        while e < n && e - k <= 20 && isWeChatCharacter(p[e]) { e += 1 }
        let count = e - k
        guard count >= 6 && count <= 20 else { return e }
        if !explicit {
            var hasMark = false
            for m in k..<e where !((p[m] | 0x20) &- 0x61 < 26) {
                hasMark = true
                break
            }
            if !hasMark { return e }
        }
        emit(.wechatID, k..<e, p + k, count)
        return e
    }
}
