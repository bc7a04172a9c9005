import Foundation

extension ScanWorker {
    /// Reads the chain of digit groups that starts at `start` (groups joined by one or two separators: space,
    /// dash, dot, slash, line break, parenthesis; ignorable code points skipped anywhere inside), evaluates it,
    /// and returns where the chain ends.
    ///
    /// A group is a run of digits of any script, with ignorable code points between them. Chinese numerals count
    /// as digits, but at the edges of a group that also holds other digits they are text (`…1234一直`: "always"):
    /// leading ones are cut off the first group and end the chain before a later group; trailing ones end it.
    func chain(_ start: Int) -> Int {
        groups = 0
        var pos = start
        var chainEnd = start
        groupLoop: while true {
            let g = groups
            let groupDigits = digits + g * ScanWorker.maxGroupDigits
            var count = 0
            var first = pos
            var end = pos
            var leadingHan = true  // only Chinese numerals so far
            var sawHan = false
            var countAtOther = 0  // digits up to the last one that is not a Chinese numeral, and where it ends
            var endAtOther = pos
            var k = pos
            while k < n {
                let b = p[k]
                let (code, l) = b < 0x80 ? (b, 1) : classify(k)
                if code == Normalization.ignorable {
                    k += l
                    continue
                }
                let han = code >= Normalization.hanZero
                let c = han ? code &- (Normalization.hanZero &- 0x30) : code
                guard Normalization.isDigit(c) else { break }
                if han {
                    sawHan = true
                } else {
                    if leadingHan && sawHan {
                        // Chinese numerals before other digits: text, not part of the number.
                        if g > 0 { break groupLoop }
                        count = 0
                        first = k
                    }
                    leadingHan = false
                }
                if count < ScanWorker.maxGroupDigits { groupDigits[count] = c }
                count += 1
                k += l
                end = k
                if !han {
                    countAtOther = count
                    endAtOther = k
                }
            }
            var trailingHan = false
            if !leadingHan && countAtOther < count {
                count = countAtOther
                end = endAtOther
                trailingHan = true
            }
            pos = end
            groupStart[g] = first
            groupEnd[g] = end
            groupCount[g] = count
            groupXEnd[g] = -1
            groups += 1
            chainEnd = end
            if trailingHan { break }
            let x = skipIgnorables(end)
            if x < n {
                let (c, l) = foldFast(x)
                if c == 0x58 {
                    let after = x + l
                    let next = skipIgnorables(after)
                    if next >= n || !Normalization.isDigit(foldFast(next).char) {
                        groupXEnd[g] = after
                        chainEnd = after
                    }
                    break
                }
            }
            if groups == ScanWorker.maxGroups { break }
            var gap = end
            var separators = 0
            while gap < n {
                let (c, l) = foldFast(gap)
                if c == Normalization.ignorable {
                    gap += l
                    continue
                }
                guard separators < 2, Normalization.isSeparator(c) || c == 0x28 || c == 0x29 else { break }
                separators += 1
                gap += l
            }
            guard separators > 0, gap < n, Normalization.isDigit(foldFast(gap).char) else { break }
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
            if let next = passport(group: i) {
                i = next
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

    /// The offset of a `+` (or full-width `＋`) right before `start` (ignorable code points between), or nil.
    func plusBefore(_ start: Int) -> Int? {
        guard let (c, at) = previousFolded(start), c == 0x2B else { return nil }
        return at
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

    /// A passport number: `E`/`G`/`N` + 8 digits or `E` + letter + 7 digits (letters in any case and width, up to
    /// two separators between the letters and the digits, digits in one or more groups of the chain), the letters
    /// not glued to a Latin letter or digit, and a passport word within 96 bytes before. Returns the next group to
    /// look at.
    func passport(group i: Int) -> Int? {
        var total = 0
        var j = i
        while j < groups {
            total += groupCount[j]
            if total >= 7 { break }
            j += 1
        }
        guard j < groups, total == 7 || total == 8, groupXEnd[j] < 0 else { return nil }
        // Back from the first digit: ignorable code points and up to two separators, then a letter.
        var k = groupStart[i]
        var separators = 0
        var letter: (char: UInt8, start: Int)?
        while let previous = previousFolded(k) {
            if separators < 2 && Normalization.isSeparator(previous.char) {
                separators += 1
                k = previous.start
                if p[k] == 0x0A && k > 0 && p[k - 1] == 0x0D { k -= 1 }  // CR LF is one line break
                continue
            }
            letter = previous
            break
        }
        guard let letter, isASCIILetter(letter.char) else { return nil }
        let upper = letter.char & 0xDF
        let letterStart: Int
        let kind: IdentifierKind
        if total == 8 {
            switch upper {
            case 0x45, 0x47: kind = .cnPassport
            case 0x4E: kind = .kzPassport
            default: return nil
            }
            letterStart = letter.start
            scratch[0] = upper
        } else {
            guard let e = previousFolded(letter.start), e.char & 0xDF == 0x45, isASCIILetter(e.char) else {
                return nil
            }
            kind = .cnPassport
            letterStart = e.start
            scratch[0] = 0x45
            scratch[1] = upper
        }
        if let before = previousFolded(letterStart), isASCIILetter(before.char) || Normalization.isDigit(before.char) {
            return nil
        }
        guard ContextWords.passport.occurs(p, from: letterStart - 96, to: letterStart) else { return nil }
        var length = total == 8 ? 1 : 2
        for g in i...j {
            (scratch + length).update(from: digits + g * ScanWorker.maxGroupDigits, count: groupCount[g])
            length += groupCount[g]
        }
        emit(kind, letterStart..<groupEnd[j], scratch, length)
        return j + 1
    }

    @inline(__always) func isASCIILetter(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 }
}
