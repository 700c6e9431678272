import MCPGateSession
import MCPGateUpstream
import NIOCore
import NIOHTTP1

/// Sessions whose members are sse or stdio targets: the member's channel is opened for the session at
/// `initialize`, pinned in the sealed session (`LocalPin`: this replica, the channel's key), adopted by the
/// session once `initialize` succeeds, and found again for each later request of that session, only here and
/// only for the session's own route and principal. A channel the session never adopted is closed when its
/// `initialize` exchange ends.
extension RequestFlow {
    /// Finds a member's channel for `SessionRouter.members`: this replica's, still open, owned by a session of
    /// the same target, route and principal.
    func channelLookup(route: RouteRuntime, principal: PrincipalDigest?) -> SessionRouter.ChannelLookup {
        let services = self.services
        return { entry in
            guard let pin = entry.localPin, pin.replica == services.replica,
                let (channel, owner) = services.channels.registry.lookup(pin.channel), let owner,
                owner.target == entry.target, owner.route == route.identity, owner.principal == principal?.bytes
            else { return nil }
            return channel
        }
    }

    /// Opens a channel to `target` for a session about to be initialized; the future completes on the
    /// exchange's loop. The channel is closed when the exchange ends unless a session adopted it by then.
    func openSessionChannel(for target: TargetPool) -> EventLoopFuture<UpstreamChannel> {
        guard let open = target.openChannel else {
            return eventLoop.makeFailedFuture(ChannelFailure.closed(.unused))
        }
        let headers = upstreamHeaders(
            for: target, accept: UpstreamHeaders.acceptStream, contentType: false, upstreamSessionID: nil, protocolVersion: nil)
        let registry = services.channels.registry
        let opened = open(eventLoop, headers).hop(to: eventLoop)
        let exchange = self.exchange
        opened.assumeIsolated().whenSuccess { channel in
            exchange.onFinish.append {
                if registry.lookup(channel.key).map({ $0.owner == nil }) ?? false { channel.close(.closed(.unused)) }
            }
        }
        return opened
    }

    /// The local pin of a member reached over `endpoint`'s own channel (nil for HTTP members).
    func localPin(of endpoint: ResolvedEndpoint) -> LocalPin? {
        guard case .channel(let channel)? = endpoint.channel else { return nil }
        return LocalPin(replica: services.replica, channel: channel.key)
    }

    /// Gives the channels `state` pins to the session it describes (its target, route, principal, expiry).
    func adoptChannels(of state: SessionState, route: RouteRuntime) {
        for entry in state.entries {
            guard let pin = entry.localPin else { continue }
            services.channels.registry.adopt(
                pin.channel,
                owner: ChannelRegistry.Owner(
                    target: entry.target, route: route.identity, principal: state.principal?.bytes, expiresAt: state.expiresAt))
        }
    }
}
