module Finales.Core.Tests.ReservationPolicyTests

open System
open Expecto
open Finales.Core

let private limitation (quantity: string) (methodName: string) =
    let doc = Corpus.json "{}"

    { Quantity = quantity
      Method = methodName
      Document = doc
      Parsed =
        match Limitations.parse doc with
        | Ok p -> p
        | Error e -> failwith e }

let private tenant (active: bool) (offers: (string * string) list) =
    { Uuid = Guid.NewGuid()
      Name = "t"
      Limitations = offers |> List.map (fun (q, m) -> limitation q m)
      ContactPerson = ""
      IsActive = active }

[<Tests>]
let tests =
    let offering = tenant true [ "conductivity", "polynomial_interpolation" ]
    let other = tenant true [ "density", "vibrating_tube_densimetry" ]
    let inactive = tenant false [ "conductivity", "polynomial_interpolation" ]

    let catalog =
        { Catalog.empty with
            Tenants = [ offering; other; inactive ] }

    let may admin (t: Tenant option) methods =
        Catalog.mayReserve catalog admin (t |> Option.map (fun t -> t.Uuid)) "conductivity" methods

    testList
        "Catalog.mayReserve"
        [ test "a tenant may reserve what its limitations offer: the quantity with one of the request's methods" {
              Expect.isOk (may false (Some offering) [ "polynomial_interpolation" ]) "offered"
              Expect.isOk (may false (Some offering) [ "two_electrode"; "polynomial_interpolation" ]) "one of two"
          }
          test "a tenant may not reserve what it does not offer; the refusal names tenant and method" {
              match may false (Some other) [ "polynomial_interpolation" ] with
              | Ok() -> failtest "another capability's tenant reserved"
              | Error e ->
                  Expect.stringContains e (WireFormat.uuid other.Uuid) "names the tenant"
                  Expect.stringContains e "polynomial_interpolation" "names the method"

              Expect.isError (may false (Some offering) [ "two_electrode" ]) "another method"
              Expect.isError (may false (Some inactive) [ "polynomial_interpolation" ]) "a deactivated tenant"
              Expect.isError (may false (Some(tenant true [])) [ "polynomial_interpolation" ]) "unregistered"
              Expect.isError (may false None [ "polynomial_interpolation" ]) "no tenant, not an admin"
          }
          test "admins are excepted" {
              Expect.isOk (may true None [ "polynomial_interpolation" ]) "admin without tenant"
              Expect.isOk (may true (Some other) [ "polynomial_interpolation" ]) "admin for any tenant"
          } ]
