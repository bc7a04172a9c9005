import Foundation
import Testing

@Suite("list: tags, skip and limit")
struct ListPagingTests {
    func ids(_ result: CLIHarness.Result) throws -> [String] {
        let array = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        return array.compactMap { $0["id"] as? String }
    }

    @Test func tagFiltersAndPagesFollowTheSortedList() throws {
        let cli = try CLIHarness()
        defer { cli.cleanup() }
        let a = try cli.initWorkspace("a", org: "Test Archive One")
        // Given the three example records with tags (every one is tagged "synthetic")
        for name in ["en-survivor-public.json", "kk-cyrl-relative-public.json", "kk-latn-relative-public.json"] {
            #expect(try cli.run(["add", RecordCommandTests.example(name)], in: a).status == 0)
        }
        let all = try ids(try cli.run(["list", "--json"], in: a))
        #expect(all.count == 3)

        // When filtering by tag: equal, not equal, contains ignoring case
        #expect(try ids(try cli.run(["list", "--json", "--filter", "tag=sentenced"], in: a)).count == 1)
        #expect(try ids(try cli.run(["list", "--json", "--filter", "tag!=synthetic"], in: a)).isEmpty)
        #expect(try ids(try cli.run(["list", "--json", "--filter", "tag~TRAVEL"], in: a)).count == 1)
        let tagged = try cli.run(["list", "--json", "--filter", "tag=Ili"], in: a).stdout
        #expect(tagged.contains("\"tags\""))

        // Then pages are slices of the same sorted list
        #expect(try ids(try cli.run(["list", "--json", "--limit", "2"], in: a)) == Array(all.prefix(2)))
        #expect(try ids(try cli.run(["list", "--json", "--skip", "2", "--limit", "5"], in: a)) == [all[2]])
        #expect(try ids(try cli.run(["list", "--json", "--skip", "3"], in: a)).isEmpty)
        let text = try cli.run(["list", "--limit", "1"], in: a)
        #expect(text.status == 0)
        #expect(text.stdout.split(separator: "\n").count == 2)  // header and one row

        // And nonsense is a usage error
        #expect(try cli.run(["list", "--limit", "0"], in: a).status == 64)
        #expect(try cli.run(["list", "--skip", "-1"], in: a).status == 64)
        #expect(try cli.run(["list", "--filter", "tag>x"], in: a).status == 64)
    }
}
