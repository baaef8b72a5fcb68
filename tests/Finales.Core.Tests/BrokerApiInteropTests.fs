module Finales.Core.Tests.BrokerApiInteropTests

open System
open Expecto
open Finales.Core
open Finales.Core.Interop
open FsCheck
open Finales.Core.Tests.Arbitraries

let private names = [| "conductivity"; "density"; "viscosity" |]

/// A tenant of the generated catalogs: active or not, offering (quantity, method) pairs from small alphabets, each
/// limitation document an object or an array of `items` objects.
let private tenant (active: bool) (offers: (byte * byte * byte) list) =
    { Uuid = Guid.NewGuid()
      Name = "t"
      Limitations =
        offers
        |> List.map (fun (q, m, items) ->
            let text =
                if items % 2uy = 0uy then
                    "{}"
                else
                    "[" + String.Join(",", Array.create (int (items % 4uy)) "{}") + "]"

            let doc = Corpus.json text

            { Quantity = names[int q % names.Length]
              Method = names[int m % names.Length]
              Document = doc
              Parsed =
                match Limitations.parse (Corpus.json "{}") with
                | Ok p -> p
                | Error e -> failwith e })
      ContactPerson = ""
      IsActive = active }

let private itemsOf (l: TenantLimitation) =
    if l.Document.ValueKind = Text.Json.JsonValueKind.Array then
        l.Document.GetArrayLength()
    else
        1

[<Tests>]
let tests =
    testList
        "BrokerApiCore (the broker's C# facade)"
        [ testPropertyWithConfig
              config
              "TryParseUuid reads every spelling FINALES2 accepts back to the same id"
              (fun (g: Guid) ->
                  [ g.ToString "D"; g.ToString "N"; g.ToString "B"; "urn:uuid:" + g.ToString "D" ]
                  |> List.forall (fun text ->
                      let ok, parsed = BrokerApiCore.TryParseUuid text
                      ok && parsed = g))

          test "TryParseUuid refuses text that is not a UUID" {
              Expect.isFalse (fst (BrokerApiCore.TryParseUuid "not-a-uuid")) "not a uuid"
              Expect.isFalse (fst (BrokerApiCore.TryParseUuid "")) "empty"
          }

          testPropertyWithConfig
              config
              "LimitationGroups lists each (quantity, method) once, in first-appearance order, with every entry of the tenants counted"
              (fun (onlyActive: bool) (tenants: (bool * (byte * byte * byte) list) list) ->
                  let catalog =
                      { Catalog.empty with
                          Tenants = tenants |> List.map (fun (a, offers) -> tenant a offers) }

                  let counted = catalog.Tenants |> List.filter (fun t -> t.IsActive || not onlyActive)

                  let expectedKeys =
                      counted
                      |> List.collect (fun t -> t.Limitations |> List.map (fun l -> l.Quantity, l.Method))
                      |> List.distinct

                  let groups = BrokerApiCore.LimitationGroups(catalog, onlyActive) |> List.ofSeq
                  let keys = groups |> List.map (fun g -> g.Quantity, g.Method)

                  let countOf (q, m) =
                      counted
                      |> List.sumBy (fun t ->
                          t.Limitations
                          |> List.filter (fun l -> l.Quantity = q && l.Method = m)
                          |> List.sumBy itemsOf)

                  keys = expectedKeys
                  && groups
                     |> List.forall (fun g -> g.Documents.Count = countOf (g.Quantity, g.Method)))

          testPropertyWithConfig
              config
              "Offerings are the distinct capabilities of exactly the given tenant, none for no tenant"
              (fun (tenants: (bool * (byte * byte * byte) list) list) (pick: byte) ->
                  let catalog =
                      { Catalog.empty with
                          Tenants = tenants |> List.map (fun (a, offers) -> tenant a offers) }

                  let none = BrokerApiCore.Offerings(catalog, Nullable())

                  match catalog.Tenants with
                  | [] -> none.Count = 0
                  | ts ->
                      let t = ts[int pick % ts.Length]
                      let offered = BrokerApiCore.Offerings(catalog, Nullable t.Uuid) |> List.ofSeq
                      let pairs = offered |> List.map (fun o -> o.Quantity, o.Method)

                      none.Count = 0
                      && pairs = (t.Limitations |> List.map (fun l -> l.Quantity, l.Method) |> List.distinct))

          testPropertyWithConfig
              config
              "TryCommandFor maps every settable status to its command; a reservation carries the tenant and the lease"
              (fun (tenant: Guid option) (lease: PositiveInt) ->
                  let nullable =
                      match tenant with
                      | Some g -> Nullable g
                      | None -> Nullable()

                  let commandOf state =
                      match BrokerApiCore.TryCommandFor(state, nullable, float lease.Get) with
                      | true, c, _ -> Some c
                      | false, _, _ -> None

                  commandOf RequestStatusCode.Reserved = Some(Reserve(tenant, float lease.Get))
                  && commandOf RequestStatusCode.Pending = Some Release
                  && commandOf RequestStatusCode.Retracted = Some Retract
                  && commandOf RequestStatusCode.Resolved = Some Resolve
                  && commandOf RequestStatusCode.Unsolicited = None)

          test "TryCommandFor refuses 'unsolicited' with the reason" {
              let ok, _, refusal =
                  BrokerApiCore.TryCommandFor(RequestStatusCode.Unsolicited, Nullable(), 60.0)

              Expect.isFalse ok "refused"
              Expect.equal refusal "the status 'unsolicited' is set only by posting an unsolicited result" "why"
          }

          test "every wire status name parses to its state, and nothing else does" {
              for name, state in
                  [ "pending", RequestStatusCode.Pending
                    "reserved", RequestStatusCode.Reserved
                    "resolved", RequestStatusCode.Resolved
                    "retracted", RequestStatusCode.Retracted
                    "unsolicited", RequestStatusCode.Unsolicited ] do
                  Expect.equal (BrokerApiCore.TryParseRequestState name) (true, state) name

              Expect.isFalse (fst (BrokerApiCore.TryParseRequestState "Pending")) "names are lower case"
          }

          test "TryDecodeRequest names the path of every problem as C# shapes" {
              let ok, _, issues =
                  BrokerApiCore.TryDecodeRequest(InputLimits.defaults, Corpus.json """{"quantity":1}""")

              Expect.isFalse ok "refused"
              Expect.isNonEmpty issues "issues"
              Expect.contains (issues |> Seq.map (fun i -> i.RenderedPath)) "quantity" "quantity named"
          } ]
