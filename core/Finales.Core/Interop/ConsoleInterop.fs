namespace Finales.Core.Interop

open System
open System.Collections.Generic
open System.Runtime.InteropServices
open Finales.Core

/// The buttons the console's request page offers (C# shape of `ConsoleActions`).
type ConsoleButtons =
    { Retract: bool
      Release: bool
      AmendResult: bool }

/// The console's decisions (`ConsoleRules`) for C#: roles as strings, tenants as lists, nullable holders, and the
/// Try-pattern for the composition check.
[<AbstractClass; Sealed>]
type ConsoleCore =
    static member private Role(roles: IReadOnlyList<string>, tenants: IReadOnlyList<Guid>) : ConsoleRole =
        { IsAdmin = Seq.contains "admin" roles
          IsObserver = Seq.contains "observer" roles
          IsTenant = Seq.contains "tenant" roles
          Tenants = Set.ofSeq tenants }

    /// Whether the caller sees every tenant's data (admins and observers).
    static member SeesEverything(roles: IReadOnlyList<string>, tenants: IReadOnlyList<Guid>) : bool =
        ConsoleRules.seesEverything (ConsoleCore.Role(roles, tenants))

    /// Whether the caller may see a request of `requester`, held by `holder` (null: none), with results of `resultTenants`.
    static member MaySeeRequest
        (
            roles: IReadOnlyList<string>,
            tenants: IReadOnlyList<Guid>,
            requester: Guid,
            holder: Nullable<Guid>,
            resultTenants: IReadOnlyList<Guid>
        ) : bool =
        ConsoleRules.maySeeRequest
            (ConsoleCore.Role(roles, tenants))
            requester
            (Option.ofNullable holder)
            (List.ofSeq resultTenants)

    /// Whether the caller may see the registration of `tenant`.
    static member MaySeeTenant(roles: IReadOnlyList<string>, tenants: IReadOnlyList<Guid>, tenant: Guid) : bool =
        ConsoleRules.maySeeTenant (ConsoleCore.Role(roles, tenants)) tenant

    /// The buttons of the request page for a request in `status` by `requester` whose current result (null: none) came from `resultTenant`.
    static member Buttons
        (
            roles: IReadOnlyList<string>,
            tenants: IReadOnlyList<Guid>,
            status: string,
            requester: Guid,
            resultTenant: Nullable<Guid>
        ) : ConsoleButtons =
        let a =
            ConsoleRules.actions (ConsoleCore.Role(roles, tenants)) status requester (Option.ofNullable resultTenant)

        { Retract = a.Retract
          Release = a.Release
          AmendResult = a.AmendResult }

    /// Kelvin of a temperature in degrees Celsius (the form's temperature unit choice).
    static member KelvinOfCelsius(celsius: float) : float = float (Temperature.ofCelsius celsius)

    /// The form's composition check; false with the field-named errors joined by "; ".
    static member TryCheckFractions(fractions: IReadOnlyList<float>, [<Out>] error: byref<string>) : bool =
        match ConsoleRules.checkFractions (List.ofSeq fractions) with
        | Ok() ->
            error <- null
            true
        | Error errors ->
            error <- String.Join("; ", errors)
            false
