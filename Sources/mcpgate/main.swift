import MCPGate
print(MCPGateVersion.string)
