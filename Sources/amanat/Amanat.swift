import AmanatCLI

@main
struct AmanatMain {
    static func main() async {
        await AmanatCommand.runMain()
    }
}
