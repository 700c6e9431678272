/// A configuration that parsed but cannot be run.
struct RuntimeBuildError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
