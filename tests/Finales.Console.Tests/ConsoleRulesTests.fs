/// Properties of the console's pure decisions (core/Finales.Core/Broker/ConsoleRules.fs).
module Finales.Console.Tests.ConsoleRulesTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Core

/// Generators: roles with tenants drawn from a small pool (so requesters often match), fractions as finite floats.
type Arbitraries =
    static member Role() : Arbitrary<ConsoleRole> =
        let pool =
            [ for i in 1..4 -> Guid(sprintf "00000000-0000-0000-0000-00000000000%d" i) ]

        gen {
            let! admin = Gen.elements [ true; false ]
            let! observer = Gen.elements [ true; false ]
            let! tenant = Gen.elements [ true; false ]
            let! tenants = Gen.subListOf pool

            return
                { IsAdmin = admin
                  IsObserver = observer
                  IsTenant = tenant
                  Tenants = Set.ofSeq tenants }
        }
        |> Arb.fromGen

let private pool =
    [ for i in 1..4 -> Guid(sprintf "00000000-0000-0000-0000-00000000000%d" i) ]

let private guid = Gen.elements pool

let private config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<Arbitraries> ]
        maxTest = 500 }

[<Tests>]
let tests =
    testList
        "ConsoleRules"
        [ testPropertyWithConfig
              config
              "a role that does not see everything sees a request only through one of its tenants"
          <| fun (role: ConsoleRole) ->
              Prop.forAll (Arb.fromGen (Gen.zip3 guid (Gen.optionOf guid) (Gen.listOf guid)))
              <| fun (requester, holder, resultTenants) ->
                  let sees = ConsoleRules.maySeeRequest role requester holder resultTenants

                  let involved =
                      requester :: (Option.toList holder @ resultTenants)
                      |> List.exists role.Tenants.Contains

                  sees = (ConsoleRules.seesEverything role || involved)

          testPropertyWithConfig config "admins and observers see every request and every tenant"
          <| fun (role: ConsoleRole) (requester: Guid) ->
              let role = { role with IsObserver = true }

              Expect.isTrue (ConsoleRules.maySeeRequest role requester None []) "observer sees the request"
              Expect.isTrue (ConsoleRules.maySeeTenant role requester) "observer sees the tenant"

          testPropertyWithConfig config "an observer without a writing role is offered no button"
          <| fun (role: ConsoleRole) (status: string) ->
              let role =
                  { role with
                      IsAdmin = false
                      IsTenant = false }

              Prop.forAll (Arb.fromGen (Gen.zip guid (Gen.optionOf guid)))
              <| fun (requester, resultTenant) ->
                  let a = ConsoleRules.actions role status requester resultTenant
                  not a.Retract && not a.Release && not a.AmendResult

          testPropertyWithConfig config "retract is offered only on open requests to their requester or an admin"
          <| fun (role: ConsoleRole) ->
              Prop.forAll (
                  Arb.fromGen (
                      Gen.zip guid (Gen.elements [ "pending"; "reserved"; "resolved"; "retracted"; "unsolicited" ])
                  )
              )
              <| fun (requester, status) ->
                  let a = ConsoleRules.actions role status requester None

                  a.Retract = ((role.IsAdmin || (role.IsTenant && role.Tenants.Contains requester))
                               && (status = "pending" || status = "reserved"))

          testPropertyWithConfig config "release is offered only to admins on reserved requests"
          <| fun (role: ConsoleRole) (status: string) (requester: Guid) ->
              (ConsoleRules.actions role status requester None).Release = (role.IsAdmin && status = "reserved")

          testPropertyWithConfig config "fractions that sum to 1 within the tolerance pass"
          <| fun (weights: PositiveInt list) ->
              let total = weights |> List.sumBy (fun (PositiveInt w) -> float w)

              not weights.IsEmpty
              ==> lazy
                  (let fractions = weights |> List.map (fun (PositiveInt w) -> float w / total)
                   ConsoleRules.checkFractions fractions = Ok())

          testPropertyWithConfig config "fractions off by more than the tolerance fail, naming the field and the sum"
          <| fun (weights: PositiveInt list) (NormalFloat off) ->
              let total = weights |> List.sumBy (fun (PositiveInt w) -> float w)
              let off = if abs off < 1e-3 then 0.5 else min (abs off) 0.9

              not weights.IsEmpty
              ==> lazy
                  (let fractions =
                      weights |> List.map (fun (PositiveInt w) -> (1.0 - off) * float w / total)

                   match ConsoleRules.checkFractions fractions with
                   | Error [ e ] -> e.StartsWith "formulation.fraction: the fractions sum to"
                   | _ -> false)

          testPropertyWithConfig config "a fraction outside [0, 1] is named by its row"
          <| fun (NormalFloat bad) (before: int) ->
              let bad = if bad >= 0.0 && bad <= 1.0 then bad - 2.0 else bad
              let row = abs before % 5
              let fractions = List.replicate row 0.0 @ [ bad ]

              match ConsoleRules.checkFractions fractions with
              | Error errors ->
                  errors
                  |> List.exists (fun e -> e.StartsWith(sprintf "formulation[%d].fraction is" row))
              | Ok() -> false

          test "a fraction of NaN is refused by its row" {
              match ConsoleRules.checkFractions [ 0.5; nan ] with
              | Error [ e ] -> Expect.stringStarts e "formulation[1].fraction is NaN" "the error names row 1"
              | other -> failtestf "expected one error, got %A" other
          }

          test "no component at all is refused" {
              Expect.equal
                  (ConsoleRules.checkFractions [])
                  (Error [ "formulation: at least one component is needed" ])
                  "an empty formulation is refused"
          } ]
