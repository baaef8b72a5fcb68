namespace Finales.Optimizer

/// Placeholder replaced by Chimera.
module Chimera =
    let version = 1
