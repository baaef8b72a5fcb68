namespace Finales.Core

open System

/// What a signed-in person may see and do in the web console (issue 13): observers read everything, a tenant role
/// reads and acts only for its own tenants, admins administer.
type ConsoleRole =
    {
        IsAdmin: bool
        IsObserver: bool
        IsTenant: bool
        /// The tenants the user may act for.
        Tenants: Set<Guid>
    }

/// The buttons the request page offers to a caller.
type ConsoleActions =
    { Retract: bool
      Release: bool
      AmendResult: bool }

/// The console's pure decisions: visibility, offered actions and the form's composition check.
[<RequireQualifiedAccess>]
module ConsoleRules =

    /// Admins and observers see every tenant's data; anyone else only data of the tenants they may act for.
    let seesEverything (role: ConsoleRole) : bool = role.IsAdmin || role.IsObserver

    /// A request is visible when the caller sees everything, or when one of its tenants requested it, holds it, or
    /// posted one of its results.
    let maySeeRequest (role: ConsoleRole) (requester: Guid) (holder: Guid option) (resultTenants: Guid list) : bool =
        seesEverything role
        || role.Tenants.Contains requester
        || (holder |> Option.exists role.Tenants.Contains)
        || (resultTenants |> List.exists role.Tenants.Contains)

    /// A tenant registration (name, limitations, contact) is visible to those who see everything and to its own users.
    let maySeeTenant (role: ConsoleRole) (tenant: Guid) : bool =
        seesEverything role || role.Tenants.Contains tenant

    /// The buttons offered, mirroring the lifecycle's rules (the lifecycle still decides on the write): retract for
    /// the requesting tenant or an admin while pending or reserved; release of a reservation for an admin; amending
    /// the current result for the tenant that posted it.
    let actions
        (role: ConsoleRole)
        (status: string)
        (requester: Guid)
        (currentResultTenant: Guid option)
        : ConsoleActions =
        let writes = role.IsAdmin || role.IsTenant
        let open' = status = "pending" || status = "reserved"

        { Retract = writes && open' && (role.IsAdmin || role.Tenants.Contains requester)
          Release = role.IsAdmin && status = "reserved"
          AmendResult =
            writes
            && (currentResultTenant
                |> Option.exists (fun t -> role.IsAdmin || role.Tenants.Contains t)) }

    /// How far the fractions of a formulation may be from summing to 1.
    [<Literal>]
    let FractionTolerance = 1e-6

    /// The form's composition check: each fraction finite and in [0, 1], the fractions summing to 1; every error names
    /// its field (`formulation[i].fraction`) and the offending value.
    let checkFractions (fractions: float list) : Result<unit, string list> =
        let perRow =
            fractions
            |> List.mapi (fun i f ->
                if Double.IsNaN f || Double.IsInfinity f || f < 0.0 || f > 1.0 then
                    Some(sprintf "formulation[%d].fraction is %g; a fraction must be between 0 and 1" i f)
                else
                    None)
            |> List.choose id

        if not perRow.IsEmpty then
            Error perRow
        elif fractions.IsEmpty then
            Error [ "formulation: at least one component is needed" ]
        else
            let sum = List.sum fractions

            if abs (sum - 1.0) > FractionTolerance then
                Error [ sprintf "formulation.fraction: the fractions sum to %g; they must sum to 1" sum ]
            else
                Ok()
