import PluginAPI
import Yams

/// One node of the configuration document, with where it sits: its path from the root (`binds[0].port`) and
/// its line and column in the file.
///
/// Every accessor returns a value of the expected shape or throws a ``ConfigError`` that points at this node and
/// says what was expected and what was found. A value type used only while a configuration loads.
struct ConfigNode {
    /// The YAML node, with its position (`mark`).
    let node: Node
    /// The node's place in the document: `binds[0].listeners[0]`; empty for the root.
    let path: String
    /// The configuration file as the operator named it, for messages.
    let file: String

    init(node: Node, path: String, file: String) {
        self.node = node
        self.path = path
        self.file = file
    }

    /// 1-based line of the node in the file.
    var line: Int? { node.mark?.line }
    /// 1-based column of the node in the file.
    var column: Int? { node.mark?.column }

    /// The value of `key` in this mapping.
    func child(_ key: String, _ node: Node) -> ConfigNode {
        ConfigNode(node: node, path: path.isEmpty ? key : "\(path).\(key)", file: file)
    }

    /// Element `index` of this list.
    func element(_ index: Int, _ node: Node) -> ConfigNode {
        ConfigNode(node: node, path: "\(path)[\(index)]", file: file)
    }

    /// An error at this node: `<file>:<line>:<col>: <path>: <message>`.
    func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: line, column: column, path: path, message: message)
    }

    /// An error at this node saying what was expected and what this node is instead.
    func expected(_ what: String) -> ConfigError {
        error("expected \(what), got \(found)")
    }

    /// An error at this node for a scalar whose text did not parse.
    func error(_ problem: ConfigValueError) -> ConfigError {
        error("expected \(problem.expected), got \(problem.found ?? found)")
    }

    /// `config.yaml:14:9: binds[0].listeners[0].routes[0].policies.cors`: where this node is, in the form errors
    /// use, for errors found later (a plugin refusing its config when the chain is built).
    var location: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        return path.isEmpty ? text : text + ": " + path
    }

    /// `line 12`, to point from one error at another place in the file.
    var lineReference: String {
        guard let line else { return path }
        return "\(path) (line \(line))"
    }

    /// A plain scalar spelling nothing: empty, `~`, `null`. A key given with no value is null.
    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return scalar.tag.rawValue != Tag.Name.str.rawValue && YAMLPlainScalar.isNull(scalar.string)
    }

    /// What this node is, for the "got …" half of a message: the scalar itself (quoted, shortened, escaped) or the
    /// kind of node.
    var found: String {
        switch node {
        case .scalar(let scalar):
            if isNull { return "nothing (null)" }
            let plain = scalar.style == .plain || scalar.style == .any
            if plain, YAMLPlainScalar.isNumberOrBool(scalar.string) { return scalar.string }
            return Self.quoted(scalar.string)
        case .mapping(let mapping):
            return mapping.isEmpty ? "an empty mapping" : "a mapping"
        case .sequence(let sequence):
            return sequence.isEmpty ? "an empty list" : "a list"
        case .alias:
            return "an alias"
        }
    }

    /// `text` in double quotes, escaped as a JSON string (`JSONString`, with U+007F escaped too), cut at 80
    /// characters with a `…` before the closing quote, for messages that must stay on one line.
    static func quoted(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let cut = scalars.index(scalars.startIndex, offsetBy: 80, limitedBy: scalars.endIndex), cut != scalars.endIndex
        else { return JSONString.quote(text, escapingDelete: true) }
        var result = "\""
        JSONString.appendEscaped(Substring(scalars[..<cut]), to: &result, escapingDelete: true)
        return result + "…\""
    }
}
