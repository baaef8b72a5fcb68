namespace Finales.Core

/// Placeholder replaced by the wire codecs.
module Json =
    let version = 1
