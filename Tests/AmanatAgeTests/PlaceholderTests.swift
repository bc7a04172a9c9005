import Testing
@Test func ageModuleBuilds() {}
