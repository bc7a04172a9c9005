import Testing
@testable import AmanatCLI
@Test func cliModuleBuilds() {}
