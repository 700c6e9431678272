// Generated from examples/exchanges/default.json (a test checks they are identical): the exchanges
// `mcpgate plugin check` runs when given none.

extension PluginCheck {
    /// The default recorded exchanges (examples/exchanges/default.json): one of each kind of traffic.
    public static let defaultExchangesJSON = #"""
        {
          "description": "Default MCP exchanges for `mcpgate plugin check` and the C test host: one of each kind of traffic a filter sees. No expectations: they report what the plugin decides.",
          "exchanges": [
            {
              "name": "CORS preflight",
              "request": {"method": "OPTIONS", "path": "/mcp", "headers": {"Origin": "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, mcp-session-id"}},
              "status": 204
            },
            {
              "name": "initialize (anonymous)",
              "request": {"method": "POST", "path": "/mcp", "headers": {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}},
              "messages": [{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1.0"}}}],
              "responses": [{"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "upstream", "version": "1.0"}}}],
              "responseHeaders": {"Content-Type": "application/json", "Mcp-Session-Id": "s-1"}
            },
            {
              "name": "initialized notification",
              "request": {"method": "POST", "path": "/mcp", "headers": {"Content-Type": "application/json", "Mcp-Session-Id": "s-1", "MCP-Protocol-Version": "2025-06-18"}},
              "messages": [{"jsonrpc": "2.0", "method": "notifications/initialized"}],
              "status": 202
            },
            {
              "name": "tools/list by alice",
              "request": {"method": "POST", "path": "/mcp", "headers": {"Content-Type": "application/json", "Authorization": "Bearer alice-token", "Mcp-Session-Id": "s-1", "MCP-Protocol-Version": "2025-06-18"}, "attributes": {"mcpgate.principal": "alice"}},
              "messages": [{"jsonrpc": "2.0", "id": 2, "method": "tools/list"}],
              "responses": [{"jsonrpc": "2.0", "id": 2, "result": {"tools": [{"name": "search", "inputSchema": {"type": "object"}}, {"name": "delete_repo", "inputSchema": {"type": "object"}}]}}],
              "responseHeaders": {"Content-Type": "application/json"}
            },
            {
              "name": "tools/call search by alice",
              "request": {"method": "POST", "path": "/mcp", "headers": {"Content-Type": "application/json", "Authorization": "Bearer alice-token", "Mcp-Session-Id": "s-1", "MCP-Protocol-Version": "2025-06-18"}, "attributes": {"mcpgate.principal": "alice"}},
              "messages": [{"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "search", "arguments": {"q": "mcp"}}}],
              "responses": [{"jsonrpc": "2.0", "id": 3, "result": {"content": [{"type": "text", "text": "3 results"}]}}],
              "responseHeaders": {"Content-Type": "application/json"}
            },
            {
              "name": "tools/call delete_repo by bob",
              "request": {"method": "POST", "path": "/mcp", "headers": {"Content-Type": "application/json", "Authorization": "Bearer bob-token", "Mcp-Session-Id": "s-1", "MCP-Protocol-Version": "2025-06-18"}, "attributes": {"mcpgate.principal": "bob"}},
              "messages": [{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "delete_repo", "arguments": {"repo": "prod"}}}],
              "responses": [{"jsonrpc": "2.0", "id": 4, "result": {"content": [{"type": "text", "text": "deleted"}]}}],
              "responseHeaders": {"Content-Type": "application/json"}
            },
            {
              "name": "tools/call without a principal",
              "request": {"method": "POST", "path": "/mcp", "headers": {"Content-Type": "application/json", "Mcp-Session-Id": "s-1", "MCP-Protocol-Version": "2025-06-18"}},
              "messages": [{"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "search", "arguments": {"q": "anon"}}}],
              "responses": [{"jsonrpc": "2.0", "id": 5, "result": {"content": [{"type": "text", "text": "0 results"}]}}],
              "responseHeaders": {"Content-Type": "application/json"}
            },
            {
              "name": "resources/read and prompts/get",
              "request": {"method": "POST", "path": "/mcp", "headers": {"Content-Type": "application/json", "Mcp-Session-Id": "s-1", "MCP-Protocol-Version": "2025-06-18"}, "attributes": {"mcpgate.principal": "alice"}},
              "messages": [
                {"jsonrpc": "2.0", "id": 6, "method": "resources/read", "params": {"uri": "file:///docs/readme.md"}},
                {"jsonrpc": "2.0", "id": 7, "method": "prompts/get", "params": {"name": "summarise"}}
              ],
              "responses": [
                {"jsonrpc": "2.0", "id": 6, "result": {"contents": [{"uri": "file:///docs/readme.md", "text": "# readme"}]}},
                {"jsonrpc": "2.0", "id": 7, "result": {"messages": []}}
              ],
              "responseHeaders": {"Content-Type": "application/json"}
            },
            {
              "name": "tools/call answered on an SSE stream with progress",
              "request": {"method": "POST", "path": "/mcp", "headers": {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", "Mcp-Session-Id": "s-1", "MCP-Protocol-Version": "2025-06-18"}, "attributes": {"mcpgate.principal": "alice"}},
              "messages": [{"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "search", "arguments": {"q": "long"}, "_meta": {"progressToken": "p8"}}}],
              "events": [{"event": "message", "data": {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "p8", "progress": 50, "total": 100}}}],
              "responses": [{"jsonrpc": "2.0", "id": 8, "result": {"content": [{"type": "text", "text": "done"}]}}],
              "responseHeaders": {"Content-Type": "text/event-stream"},
              "sse": true
            },
            {
              "name": "GET stream with a server request",
              "request": {"method": "GET", "path": "/mcp", "headers": {"Accept": "text/event-stream", "Mcp-Session-Id": "s-1", "MCP-Protocol-Version": "2025-06-18"}, "attributes": {"mcpgate.principal": "alice"}},
              "events": [
                {"event": "message", "id": "e1", "data": {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}},
                {"event": "message", "id": "e2", "data": {"jsonrpc": "2.0", "id": 100, "method": "sampling/createMessage", "params": {"messages": [], "maxTokens": 10}}}
              ],
              "responseHeaders": {"Content-Type": "text/event-stream"},
              "sse": true
            },
            {
              "name": "upstream error relayed",
              "request": {"method": "POST", "path": "/mcp", "headers": {"Content-Type": "application/json", "Mcp-Session-Id": "s-1", "MCP-Protocol-Version": "2025-06-18"}, "attributes": {"mcpgate.principal": "alice"}},
              "messages": [{"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "missing_tool", "arguments": {}}}],
              "responses": [{"jsonrpc": "2.0", "id": 9, "error": {"code": -32602, "message": "Unknown tool: missing_tool"}}],
              "responseHeaders": {"Content-Type": "application/json"}
            },
            {
              "name": "gateway error (session not found)",
              "request": {"method": "POST", "path": "/mcp", "headers": {"Content-Type": "application/json", "Mcp-Session-Id": "tampered", "MCP-Protocol-Version": "2025-06-18"}},
              "gatewayError": {"status": 404, "body": {"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "Session not found"}}}
            }
          ]
        }
        """#
}
