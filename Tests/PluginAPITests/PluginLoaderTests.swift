import Foundation
import Testing

@testable import PluginAPI

/// Every refusal of the loader, each with its message, and the accepted cases.
@Suite struct PluginLoaderTests {
    private func refusal(_ path: String) -> PluginLoadError? {
        do {
            _ = try PluginLoader.load(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func missingFileIsRefusedWithItsPath() {
        let error = refusal("/nonexistent/libnothing.so")
        #expect(error == .fileNotFound(path: "/nonexistent/libnothing.so"))
        #expect(error?.description == "plugin /nonexistent/libnothing.so: no such file")
    }

    @Test func directoryIsRefused() {
        let error = refusal("/tmp")
        #expect(error == .unreadable(path: "/tmp", reason: "not a regular file"))
        #expect(error?.description == "plugin /tmp: cannot read the file: not a regular file")
    }

    @Test func textFileIsNotASharedObject() throws {
        let path = TestPlugins.scratchPath("not-a-plugin.so")
        try "just text\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = refusal(path)
        #expect(error == .notSharedObject(path: path))
        #expect(error?.description == "plugin \(path): not a shared object (no ELF header); build it with `cc -shared -fPIC`")
    }

    @Test func unresolvedSymbolFailsDlopen() throws {
        let path = try TestPlugins.broken("UNDEFINED_SYMBOL")
        guard case .dlopenFailed(let errorPath, let reason) = refusal(path) else {
            Issue.record("expected dlopenFailed")
            return
        }
        #expect(errorPath == path)
        #expect(reason.contains("undefined symbol: mcpgate_no_such_function"))
        #expect(PluginLoadError.dlopenFailed(path: path, reason: reason).description.hasPrefix("plugin \(path): dlopen failed: "))
    }

    @Test func missingEntryPointIsRefused() throws {
        let path = try TestPlugins.broken("NO_SYMBOL")
        let error = refusal(path)
        #expect(error == .missingEntryPoint(path: path, symbol: "mcpgate_plugin_v1"))
        #expect(
            error?.description
                == "plugin \(path): missing the entry point `mcpgate_plugin_v1`; is it an mcpgate plugin? Define it with MCPGATE_DEFINE_PLUGIN from mcpgate/filter.h"
        )
    }

    @Test func nullDescriptorIsRefused() throws {
        let path = try TestPlugins.broken("NULL_DESCRIPTOR")
        let error = refusal(path)
        #expect(error == .nullDescriptor(path: path))
        #expect(error?.description == "plugin \(path): mcpgate_plugin_v1() returned NULL")
    }

    @Test func wrongMagicIsRefused() throws {
        let path = try TestPlugins.broken("WRONG_MAGIC")
        let error = refusal(path)
        #expect(error == .wrongMagic(path: path, found: 0x1234, expected: 0x0145_5441_4750_4D43))
        #expect(
            error?.description
                == "plugin \(path): wrong magic 0x1234 in the descriptor (expected 0x145544147504d43); fill it with MCPGATE_PLUGIN_HEADER")
    }

    @Test func otherABIMajorIsRefused() throws {
        let path = try TestPlugins.broken("WRONG_MAJOR")
        let error = refusal(path)
        #expect(error == .abiMajorMismatch(path: path, plugin: 2, host: 1))
        #expect(
            error?.description
                == "plugin \(path): built for filter ABI 2.x, this gateway speaks ABI 1.x; rebuild it against this gateway's mcpgate/filter.h"
        )
    }

    @Test func descriptorSmallerThanV1IsRefused() throws {
        let path = try TestPlugins.broken("SMALL_STRUCT")
        let minimum = PluginLoader.minimumDescriptorSize
        let error = refusal(path)
        #expect(error == .descriptorTooSmall(path: path, size: 64, minimum: minimum))
        #expect(
            error?.description
                == "plugin \(path): descriptor struct_size 64 is smaller than the ABI 1.0 descriptor (\(minimum) bytes); fill it with MCPGATE_PLUGIN_HEADER"
        )
    }

    @Test func otherDataModelIsRefused() throws {
        let path = try TestPlugins.broken("DATA_MODEL")
        let error = refusal(path)
        #expect(error == .dataModelMismatch(path: path, pluginPointer: 4, pluginSizeT: 8, hostPointer: 8, hostSizeT: 8))
        #expect(error?.description == "plugin \(path): built with 4-byte pointers and 8-byte size_t, the gateway uses 8 and 8")
    }

    @Test func invalidNameIsRefused() throws {
        let path = try TestPlugins.broken("BAD_NAME")
        let error = refusal(path)
        #expect(error == .invalidName(path: path, name: "Bad Name!"))
        #expect(error?.description == "plugin \(path): invalid plugin name \"Bad Name!\" (want 1-64 characters of [a-z0-9_-])")
    }

    @Test func pluginBuiltAgainstNewerJanssonIsRefused() throws {
        let path = try TestPlugins.broken("JANSSON_NEWER")
        let running = try #require(PluginRuntime.janssonVersion)
        let error = refusal(path)
        #expect(error == .janssonMismatch(path: path, built: "2.99.0", running: running.description))
        #expect(
            error?.description
                == "plugin \(path): built with jansson 2.99.0, the gateway runs jansson \(running) (needs the same major and at least the plugin's version)"
        )
    }

    @Test func pluginBuiltAgainstOtherJanssonMajorIsRefused() throws {
        let path = try TestPlugins.broken("JANSSON_MAJOR")
        let running = try #require(PluginRuntime.janssonVersion)
        #expect(refusal(path) == .janssonMismatch(path: path, built: "3.0.0", running: running.description))
    }

    @Test func pluginBuiltAgainstOtherOpenSSLMajorIsRefused() throws {
        let path = try TestPlugins.broken("OPENSSL_MISMATCH", extraFlags: ["-lcrypto"])
        guard case .opensslMismatch(let errorPath, let built, let loaded) = refusal(path) else {
            Issue.record("expected opensslMismatch")
            return
        }
        #expect(errorPath == path)
        #expect(built == "1.1.1")
        #expect(loaded.hasPrefix("3."))
        #expect(
            PluginLoadError.opensslMismatch(path: path, built: built, loaded: loaded).description
                == "plugin \(path): built with OpenSSL 1.1.1, but the libcrypto loaded for it is OpenSSL \(loaded) (major versions differ); rebuild it against the installed OpenSSL"
        )
    }

    @Test func pluginClaimingOpenSSLWithoutLibcryptoIsRefused() throws {
        let path = try TestPlugins.broken("OPENSSL_NOT_LOADED")
        let error = refusal(path)
        #expect(error == .opensslNotLoaded(path: path, built: "3.0.19"))
        #expect(error?.description == "plugin \(path): built with OpenSSL 3.0.19 but no libcrypto is loaded for it; link it with -lcrypto")
    }

    @Test func failingInitIsRefusedWithThePluginsMessage() throws {
        let path = try TestPlugins.broken("INIT_FAILS")
        let error = refusal(path)
        #expect(error == .initFailed(path: path, plugin: "broken", status: 5, message: "no licence key configured"))
        #expect(error?.description == "plugin \(path): broken init failed (status 5): no licence key configured")
    }

    @Test func validPluginLoadsOnceAndDescribesItself() throws {
        let path = try TestPlugins.broken(nil)
        let first = try PluginLoader.load(path: path)
        let second = try PluginLoader.load(path: path)
        #expect(first === second)
        #expect(first.info.name == "broken")
        #expect(first.info.version == "0.0.1")
        #expect(first.info.abiMajor == 1)
        #expect(first.info.callbacks == ["init"])
        #expect(first.info.openSSLBuilt == nil)
        #expect(first.info.notes.contains { $0.contains("does not use OpenSSL") })
        #expect(first.info.description.contains("plugin:      broken 0.0.1"))
    }

    @Test func pluginUsingTheInstalledOpenSSLLoads() throws {
        let path = try TestPlugins.broken(nil, extraFlags: ["-DWITH_OPENSSL", "-lcrypto"])
        let plugin = try PluginLoader.load(path: path)
        let built = try #require(plugin.info.openSSLBuilt)
        let loaded = try #require(plugin.info.openSSLLoaded)
        #expect(built.major == loaded.major)
    }

    @Test func bundledPluginsAreFoundNextToTheExecutable() {
        let path = PluginLoader.bundledPluginPath(named: "cors")
        #expect(path.hasSuffix("/libmcpgate_cors.so"))
    }

    @Test func swiftPMBuiltTestPluginsLoad() throws {
        let behavior = try PluginLoader.load(path: TestPlugins.behaviorPath)
        #expect(behavior.name == "test_behavior")
        #expect(behavior.info.callbacks.count == 11)
        #expect(!behavior.info.callbacks.contains("shutdown"))
        let noop = try PluginLoader.load(path: TestPlugins.noopPath)
        #expect(noop.name == "noop")
    }
}
