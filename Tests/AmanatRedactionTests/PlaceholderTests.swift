import Testing
@Test func redactionModuleBuilds() {}
