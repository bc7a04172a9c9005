import Testing
@Test func recordsModuleBuilds() {}
