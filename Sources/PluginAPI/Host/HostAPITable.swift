import CJansson
import CMCPGate
import Synchronization

/// The `mcpgate_host_api` table every plugin receives at init: C entry points that find their Swift
/// objects through the handles the plugin passes back (`mcpgate_instance *` -> `FilterInstanceContext`,
/// `mcpgate_request *` -> `RequestContext`, `mcpgate_metric *` -> `PluginMetricHandle`).
///
/// One table per process, allocated once and never freed. The functions capture nothing.
enum HostAPITable {
    /// The table; valid for the life of the process.
    nonisolated(unsafe) static let pointer: UnsafePointer<mcpgate_host_api> = {
        let table = UnsafeMutablePointer<mcpgate_host_api>.allocate(capacity: 1)
        table.initialize(to: make())
        return UnsafePointer(table)
    }()

    /// Where lines logged without an instance go.
    static let fallbackLogSink: any PluginLogSink = StandardErrorLogSink()
    static let fallbackClock: any HostClock = SystemHostClock()

    private static func make() -> mcpgate_host_api {
        mcpgate_host_api(
            struct_size: UInt32(MemoryLayout<mcpgate_host_api>.size),
            abi_major: UInt32(MCPGATE_ABI_MAJOR),
            abi_minor: UInt32(MCPGATE_ABI_MINOR),
            reserved: 0,
            log: { inst, level, message, length in
                let text = String(decoding: UnsafeRawBufferPointer(start: message, count: length), as: UTF8.self)
                let level = PluginLogLevel(clamping: level)
                if let inst {
                    let context = FilterInstanceContext.from(inst)
                    context.services.logSink.log(level, plugin: context.pluginName, instance: context.instanceName, message: text)
                } else {
                    HostAPITable.fallbackLogSink.log(level, plugin: "", instance: "", message: text)
                }
            },
            log_enabled: { inst, level in
                let level = PluginLogLevel(clamping: level)
                let sink = inst.map { FilterInstanceContext.from($0).services.logSink } ?? HostAPITable.fallbackLogSink
                return sink.isEnabled(level) ? 1 : 0
            },
            monotonic_ns: { inst in
                let clock = inst.map { FilterInstanceContext.from($0).services.clock } ?? HostAPITable.fallbackClock
                return clock.monotonicNanoseconds()
            },
            wall_unix_ns: { inst in
                let clock = inst.map { FilterInstanceContext.from($0).services.clock } ?? HostAPITable.fallbackClock
                return clock.wallNanoseconds()
            },
            instance_name: { inst in
                mcpgate_str(FilterInstanceContext.from(inst).instanceNameBuffer)
            },
            metric_define: { inst, kind, name, help, labelNames, labelCount, buckets, bucketCount, out in
                HostAPITable.defineMetric(
                    FilterInstanceContext.from(inst), kind: kind, name: name, help: help, labelNames: labelNames,
                    labelCount: labelCount, buckets: buckets, bucketCount: bucketCount, out: out)
            },
            metric_record: { metric, values, count, value in
                let handle = Unmanaged<PluginMetricHandle>.fromOpaque(UnsafeRawPointer(metric)).takeUnretainedValue()
                if count > 0 && values == nil { return MCPGATE_ERR_BAD_ARGUMENT }
                let buffer = UnsafeBufferPointer(start: values, count: count)
                switch handle.family.record(prefix: handle.prefix, prefixValues: handle.prefixValues, values: buffer, value: value) {
                case .recorded: return MCPGATE_OK
                case .seriesLimit: return MCPGATE_ERR_LIMIT
                case .badArgument: return MCPGATE_ERR_BAD_ARGUMENT
                }
            },
            header_get: { req, which, name, index, out in
                HostAPITable.headerGet(RequestContext.from(req), which: which, name: name, index: index, out: out)
            },
            header_edit: { req, which, op, name, value in
                HostAPITable.headerEdit(RequestContext.from(req), which: which, op: op, name: name, value: value)
            },
            attr_set: { req, key, value, flags in
                let context = RequestContext.from(req)
                guard context.currentHook != nil else { return MCPGATE_ERR_STATE }
                if value.ptr == nil && value.len > 0 { return MCPGATE_ERR_BAD_ARGUMENT }
                let key = String(cString: key)
                if context.attributes[key]?.readOnly == true { return MCPGATE_ERR_STATE }
                context.attributes[key] = RequestAttribute(bytes: value.rawBuffer, readOnly: flags & MCPGATE_ATTR_READONLY != 0)
                return MCPGATE_OK
            },
            attr_get: { req, key, out in
                let context = RequestContext.from(req)
                guard context.currentHook != nil else { return MCPGATE_ERR_STATE }
                guard let attribute = context.attributes[String(cString: key)] else { return MCPGATE_ERR_NOT_FOUND }
                out.pointee = mcpgate_str(attribute.text)
                return MCPGATE_OK
            },
            attr_set_json_new: { req, key, value, flags in
                let context = RequestContext.from(req)
                guard context.currentHook != nil else {
                    json_decref(value)
                    return MCPGATE_ERR_STATE
                }
                let key = String(cString: key)
                if context.attributes[key]?.readOnly == true {
                    json_decref(value)
                    return MCPGATE_ERR_STATE
                }
                context.attributes[key] = RequestAttribute(consuming: value, readOnly: flags & MCPGATE_ATTR_READONLY != 0)
                return MCPGATE_OK
            },
            attr_get_json: { req, key, out in
                let context = RequestContext.from(req)
                guard context.currentHook != nil else { return MCPGATE_ERR_STATE }
                guard let attribute = context.attributes[String(cString: key)] else { return MCPGATE_ERR_NOT_FOUND }
                guard case .json(let json) = attribute.value else { return MCPGATE_ERR_WRONG_TYPE }
                out.pointee = UnsafePointer(json)
                return MCPGATE_OK
            },
            kv_get: { inst, key, buffer, capacity, length, version in
                HostAPITable.kvGet(
                    FilterInstanceContext.from(inst), key: key, buffer: buffer, capacity: capacity, length: length, version: version)
            },
            kv_set: { inst, key, value, ttl, version in
                let context = FilterInstanceContext.from(inst)
                guard key.ptr != nil || key.len == 0, value.ptr != nil || value.len == 0 else { return MCPGATE_ERR_BAD_ARGUMENT }
                do throws(KVError) {
                    let written = try context.services.kvStore.set(context.key(key.rawBuffer), value: value.bytes, ttlMilliseconds: ttl)
                    version?.pointee = written
                    return MCPGATE_OK
                } catch {
                    return HostAPITable.status(error)
                }
            },
            kv_cas: { inst, key, expected, value, ttl, version in
                let context = FilterInstanceContext.from(inst)
                guard key.ptr != nil || key.len == 0, value.ptr != nil || value.len == 0 else { return MCPGATE_ERR_BAD_ARGUMENT }
                do throws(KVError) {
                    guard
                        let written = try context.services.kvStore.compareAndSet(
                            context.key(key.rawBuffer), expectedVersion: expected, value: value.bytes, ttlMilliseconds: ttl)
                    else { return MCPGATE_ERR_CAS_MISMATCH }
                    version?.pointee = written
                    return MCPGATE_OK
                } catch {
                    return HostAPITable.status(error)
                }
            },
            kv_delete: { inst, key in
                let context = FilterInstanceContext.from(inst)
                do throws(KVError) {
                    return try context.services.kvStore.delete(context.key(key.rawBuffer)) ? MCPGATE_OK : MCPGATE_ERR_NOT_FOUND
                } catch {
                    return HostAPITable.status(error)
                }
            },
            kv_incr: { inst, key, delta, ttl, out in
                let context = FilterInstanceContext.from(inst)
                do throws(KVError) {
                    out.pointee = try context.services.kvStore.increment(context.key(key.rawBuffer), by: delta, ttlMilliseconds: ttl)
                    return MCPGATE_OK
                } catch {
                    return HostAPITable.status(error)
                }
            },
            rate_limit: { inst, key, cost, capacity, refill, interval, out in
                let context = FilterInstanceContext.from(inst)
                let bucket = TokenBucket(capacity: capacity, refillTokens: refill, refillIntervalMilliseconds: interval)
                do throws(KVError) {
                    let outcome = try context.services.kvStore.takeTokens(context.key(key.rawBuffer), cost: cost, bucket: bucket)
                    out.pointee = mcpgate_rate_limit_result(
                        struct_size: UInt32(MemoryLayout<mcpgate_rate_limit_result>.size),
                        allowed: outcome.allowed ? 1 : 0, remaining: outcome.remaining,
                        retry_after_ms: outcome.retryAfterMilliseconds)
                    return MCPGATE_OK
                } catch {
                    return HostAPITable.status(error)
                }
            }
        )
    }

    static func status(_ error: KVError) -> mcpgate_status {
        switch error {
        case .entryTooLarge, .storeFull: MCPGATE_ERR_LIMIT
        case .wrongType: MCPGATE_ERR_WRONG_TYPE
        case .invalidArgument, .overflow: MCPGATE_ERR_BAD_ARGUMENT
        case .unavailable: MCPGATE_ERR_UNAVAILABLE
        }
    }

    private static func kvGet(
        _ context: FilterInstanceContext, key: mcpgate_str, buffer: UnsafeMutableRawPointer?, capacity: Int,
        length: UnsafeMutablePointer<Int>, version: UnsafeMutablePointer<UInt64>?
    ) -> mcpgate_status {
        do throws(KVError) {
            guard let value = try context.services.kvStore.get(context.key(key.rawBuffer)) else { return MCPGATE_ERR_NOT_FOUND }
            length.pointee = value.bytes.count
            guard value.bytes.count <= capacity else { return MCPGATE_ERR_TOO_SMALL }
            if !value.bytes.isEmpty {
                guard let buffer else { return MCPGATE_ERR_BAD_ARGUMENT }
                value.bytes.withUnsafeBytes { bytes in
                    if let base = bytes.baseAddress { buffer.copyMemory(from: base, byteCount: bytes.count) }
                }
            }
            version?.pointee = value.version
            return MCPGATE_OK
        } catch {
            return status(error)
        }
    }

    private static func isValidMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(0x30...0x39).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x5F
        }
    }

    private static func defineMetric(
        _ context: FilterInstanceContext, kind: Int32, name: UnsafePointer<CChar>, help: UnsafePointer<CChar>?,
        labelNames: UnsafePointer<UnsafePointer<CChar>>?, labelCount: Int, buckets: UnsafePointer<Double>?,
        bucketCount: Int, out: UnsafeMutablePointer<OpaquePointer?>
    ) -> mcpgate_status {
        guard context.configuring.load(ordering: .acquiring) else { return MCPGATE_ERR_STATE }
        guard let kind = MetricKind(abiValue: kind) else { return MCPGATE_ERR_BAD_ARGUMENT }
        let name = String(cString: name)
        guard isValidMetricName(name) else { return MCPGATE_ERR_BAD_ARGUMENT }
        if labelCount > 0 && labelNames == nil { return MCPGATE_ERR_BAD_ARGUMENT }
        if bucketCount > 0 && buckets == nil { return MCPGATE_ERR_BAD_ARGUMENT }
        var labels = ["plugin", "instance"]
        for index in 0..<labelCount {
            guard let labelNames else { return MCPGATE_ERR_BAD_ARGUMENT }
            let label = String(cString: labelNames[index])
            guard isValidMetricName(label), !labels.contains(label), label != "le" else { return MCPGATE_ERR_BAD_ARGUMENT }
            labels.append(label)
        }
        let bounds = (0..<bucketCount).compactMap { buckets?[$0] }
        guard zip(bounds, bounds.dropFirst()).allSatisfy({ $0 < $1 }), bounds.allSatisfy({ $0.isFinite }) else {
            return MCPGATE_ERR_BAD_ARGUMENT
        }
        guard
            let family = context.services.metrics.family(
                name: "mcpgate_plugin_" + name, help: help.map { String(cString: $0) } ?? "", kind: kind,
                labelNames: labels, buckets: bounds)
        else { return MCPGATE_ERR_BAD_ARGUMENT }
        let handle = PluginMetricHandle(family: family, plugin: context.pluginName, instance: context.instanceName)
        context.metricHandles.withLock { $0.append(handle) }
        out.pointee = OpaquePointer(Unmanaged.passUnretained(handle).toOpaque())
        return MCPGATE_OK
    }

    /// ASCII case-insensitive comparison of a header name with a C string, without allocating.
    static func headerNameMatches(_ name: String, _ wanted: UnsafePointer<CChar>) -> Bool {
        var position = 0
        for byte in name.utf8 {
            let other = UInt8(bitPattern: wanted[position])
            if other == 0 { return false }
            if lower(byte) != lower(other) { return false }
            position += 1
        }
        return wanted[position] == 0
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    private static func headerGet(
        _ context: RequestContext, which: Int32, name: UnsafePointer<CChar>, index: Int,
        out: UnsafeMutablePointer<mcpgate_str>
    ) -> mcpgate_status {
        guard context.currentHook != nil else { return MCPGATE_ERR_STATE }
        let headers: [(name: String, value: String)]
        switch which {
        case MCPGATE_HEADERS_REQUEST:
            headers = context.http.headers
        case MCPGATE_HEADERS_RESPONSE:
            guard let response = context.responseHeaders else { return MCPGATE_ERR_STATE }
            headers = response
        default:
            return MCPGATE_ERR_BAD_ARGUMENT
        }
        var seen = 0
        for header in headers where headerNameMatches(header.name, name) {
            if seen == index {
                out.pointee = context.lend(header.value)
                return MCPGATE_OK
            }
            seen += 1
        }
        return MCPGATE_ERR_NOT_FOUND
    }

    private static func headerEdit(
        _ context: RequestContext, which: Int32, op: Int32, name: UnsafePointer<CChar>, value: mcpgate_str
    ) -> mcpgate_status {
        guard let hook = context.currentHook else { return MCPGATE_ERR_STATE }
        guard let operation = FilterHeaderEdit.Operation(rawValue: op) else { return MCPGATE_ERR_BAD_ARGUMENT }
        let headerName = String(cString: name)
        guard !headerName.isEmpty, headerName.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x3A }) else {
            return MCPGATE_ERR_BAD_ARGUMENT
        }
        if value.ptr == nil && value.len > 0 { return MCPGATE_ERR_BAD_ARGUMENT }
        let headerValue = operation == .remove ? "" : value.string
        guard !headerValue.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else { return MCPGATE_ERR_BAD_ARGUMENT }
        let edit = FilterHeaderEdit(operation: operation, name: headerName, value: headerValue)
        switch which {
        case MCPGATE_HEADERS_REQUEST:
            guard hook.isRequestPath else { return MCPGATE_ERR_STATE }
            context.upstreamEdits.append(edit)
        case MCPGATE_HEADERS_RESPONSE:
            context.responseEdits.append(edit)
        default:
            return MCPGATE_ERR_BAD_ARGUMENT
        }
        return MCPGATE_OK
    }
}
