namespace Finales.Client

/// Placeholder replaced by the client.
module BrokerClient =
    let version = 1
