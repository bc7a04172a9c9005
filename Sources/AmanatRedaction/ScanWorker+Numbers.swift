import Foundation

extension ScanWorker {
    /// Reads the chain of digit groups that starts at `start` (groups joined by one or two separators: space,
    /// hyphen, line break, parenthesis), evaluates it, and returns where the chain ends.
    func chain(_ start: Int) -> Int {
        groups = 0
        var pos = start
        var chainEnd = start
        while true {
            let g = groups
            groupStart[g] = pos
            var count = 0
            let groupDigits = digits + g * ScanWorker.maxGroupDigits
            while pos < n {
                let (c, l) = fold(pos)
                guard Normalization.isDigit(c) else { break }
                if count < ScanWorker.maxGroupDigits { groupDigits[count] = c }
                count += 1
                pos += l
            }
            groupEnd[g] = pos
            groupCount[g] = count
            groupXEnd[g] = -1
            groups += 1
            chainEnd = pos
            if pos < n {
                let (c, l) = fold(pos)
                if c == 0x58 {
                    let after = pos + l
                    if after >= n || !Normalization.isDigit(fold(after).char) {
                        groupXEnd[g] = after
                        chainEnd = after
                    }
                    break
                }
            }
            if groups == ScanWorker.maxGroups { break }
            var gap = pos
            var separators = 0
            while separators < 2 && gap < n {
                let (c, l) = fold(gap)
                guard c == 0x20 || c == 0x2D || c == 0x0A || c == 0x28 || c == 0x29 else { break }
                separators += 1
                gap += l
            }
            guard separators > 0, gap < n, Normalization.isDigit(fold(gap).char) else { break }
            if matchDate(gap) != nil { break }  // the main loop will take the date from there
            pos = gap
        }
        evaluateChain()
        return chainEnd
    }

    /// Finds identifiers in the groups just read: at each group, the longest run of whole groups that forms a
    /// valid identifier wins; failing that, a suspect number next to a context word.
    func evaluateChain() {
        var i = 0
        while i < groups {
            if passport(group: i) {
                i += 1
                continue
            }
            var total = 0
            var last = i - 1
            for j in i..<groups {
                let count = groupCount[j]
                if count > ScanWorker.maxGroupDigits || total + count > 18 { break }
                (candidate + total).update(from: digits + j * ScanWorker.maxGroupDigits, count: count)
                total += count
                cumulative[j] = total
                last = j
            }
            var matched = false
            var j = last
            while j >= i {
                if tryMatch(first: i, last: j, total: cumulative[j]) {
                    matched = true
                    break
                }
                j -= 1
            }
            if matched {
                i = j + 1
                continue
            }
            if let next = trySuspect(first: i, last: last) {
                i = next
                continue
            }
            i += 1
        }
    }

    /// The offset of a `+` (or full-width `＋`) right before `start`, or nil.
    func plusBefore(_ start: Int) -> Int? {
        if start >= 1 && p[start - 1] == 0x2B { return start - 1 }
        if start >= 3 && p[start - 3] == 0xEF && p[start - 2] == 0xBC && p[start - 1] == 0x8B { return start - 3 }
        return nil
    }

    func tryMatch(first i: Int, last j: Int, total: Int) -> Bool {
        let start = groupStart[i]
        if total == 17 && groupXEnd[j] >= 0 {
            candidate[17] = 0x58
            if ChineseResidentID.isValid18(candidate) {
                emit(.cnResidentID, start..<groupXEnd[j], candidate, 18)
                return true
            }
            return false
        }
        let end = groupEnd[j]
        switch total {
        case 18:
            if ChineseResidentID.isValid18(candidate) {
                emit(.cnResidentID, start..<end, candidate, 18)
                return true
            }
        case 15:
            if ChineseResidentID.isValid15(candidate) {
                emit(.cnResidentID, start..<end, maxLength: 18) {
                    ChineseResidentID.convert15to18(candidate, into: $0)
                    return 18
                }
                return true
            }
        case 12:
            if KazakhIIN.isValid12(candidate) {
                emit(.kzIIN, start..<end, candidate, 12)
                return true
            }
        default:
            break
        }
        if total == 11 || total == 13 || total == 15 {
            let plus = i == 0 ? plusBefore(start) : nil
            let length = PhoneNumber.e164(digits: candidate, count: total, plus: plus != nil, into: scratch)
            if length > 0 {
                emit(.phone, (plus ?? start)..<end, scratch, length)
                return true
            }
        }
        return false
    }

    /// A suspect Chinese ID (18 or 15 characters) or IIN (12 digits) that failed its checks but follows a context
    /// word. Returns the next group to look at.
    func trySuspect(first i: Int, last: Int) -> Int? {
        guard last >= i else { return nil }
        let start = groupStart[i]
        var j = last
        while j >= i {
            var total = cumulative[j]
            var end = groupEnd[j]
            if total == 17 && groupXEnd[j] >= 0 {
                candidate[17] = 0x58
                total = 18
                end = groupXEnd[j]
            }
            switch total {
            case 18, 15:
                if ContextWords.chineseID.occurs(p, from: start - 40, to: start) {
                    if total == 15 {
                        ChineseResidentID.convert15to18(candidate, into: scratch)
                    } else {
                        scratch.update(from: candidate, count: 18)
                    }
                    emit(.cnResidentID, start..<end, scratch, 18, .suspect)
                    return j + 1
                }
            case 12:
                if !KazakhIIN.isBIN12(candidate),
                    ContextWords.kazakhIIN.occurs(p, from: start - 40, to: start),
                    !ContextWords.business.occurs(p, from: start - 16, to: start)
                {
                    emit(.kzIIN, start..<end, candidate, 12, .suspect)
                    return j + 1
                }
            default:
                break
            }
            j -= 1
        }
        return nil
    }

    /// A passport number: `E`/`G`/`N` + 8 digits or `E` + letter + 7 digits, letters not glued to a Latin letter
    /// or digit, and a passport word within 96 bytes before.
    func passport(group i: Int) -> Bool {
        let count = groupCount[i]
        guard count == 7 || count == 8, groupXEnd[i] < 0 else { return false }
        let s = groupStart[i]
        let letterStart: Int
        let kind: IdentifierKind
        if count == 8 {
            guard s >= 1 else { return false }
            switch p[s - 1] {
            case 0x45, 0x47: kind = .cnPassport
            case 0x4E: kind = .kzPassport
            default: return false
            }
            letterStart = s - 1
        } else {
            guard s >= 2, p[s - 2] == 0x45, p[s - 1] &- 0x41 < 26 else { return false }
            kind = .cnPassport
            letterStart = s - 2
        }
        if letterStart > 0 && isASCIIAlnum(p[letterStart - 1]) { return false }
        guard ContextWords.passport.occurs(p, from: letterStart - 96, to: letterStart) else { return false }
        let letters = s - letterStart
        scratch.update(from: p + letterStart, count: letters)
        (scratch + letters).update(from: digits + i * ScanWorker.maxGroupDigits, count: count)
        emit(kind, letterStart..<groupEnd[i], scratch, letters + count)
        return true
    }
}
