import Yams

extension ConfigError {
    /// A YAML syntax error as one line at its place: `config.yaml:4:3: invalid YAML: could not find expected ':'
    /// (while scanning a simple key at 3:1)`.
    init(yamlError: YamlError, file: String, yaml: String) {
        func describe(_ problem: String, _ context: YamlError.Context?) -> String {
            guard let context else { return problem }
            // Yams's own composer errors read "expected …" + "but found …".
            if problem.hasPrefix("but ") { return "\(context.text), \(problem)" }
            return "\(problem) (\(context.text) at \(context.mark.line):\(context.mark.column))"
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            self.init(
                file: file,
                line: mark.line,
                column: mark.column,
                path: "",
                message: "invalid YAML: \(describe(problem, context))"
            )
        case .reader(let problem, let offset, _, _):
            let position = offset.map { Self.lineAndColumn(of: $0, in: yaml) }
            self.init(
                file: file,
                line: position?.line,
                column: position?.column,
                path: "",
                message: "invalid YAML: \(problem)"
            )
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { ConfigNode.quoted($0) }.joined(separator: ", ")
            self.init(
                file: file,
                line: context.mark.line,
                column: context.mark.column,
                path: "",
                message: "invalid YAML: expected each key once per mapping, got \(keys) more than once"
            )
        default:
            self.init(file: file, path: "", message: "invalid YAML: \(yamlError)")
        }
    }

    /// 1-based line and column (in characters) of the character at `offset`.
    private static func lineAndColumn(of offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for (index, character) in text.enumerated() {
            if index == offset { break }
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
