module Finales.Md.Tests.SpeciesTests

open Expecto
open Finales.Md.Analysis

let private error r =
    match r with
    | Ok _ -> failtest "parsed where it should fail"
    | Error(e: string) -> e

[<Tests>]
let tests =
    testList
        "md.species"
        [ testCase "species by atom and by molecule"
          <| fun () ->
              match Species.parse "Li:1:0.8, PF6:2+3:-0.8:mol,EC:4+5+6:0:mol" with
              | Ok [ li; pf6; ec ] ->
                  Expect.equal li.AtomTypes [| 1 |] "Li types"
                  Expect.isFalse li.ByMolecule "Li by atom"
                  Expect.equal pf6.AtomTypes [| 2; 3 |] "PF6 types"
                  Expect.floatClose Accuracy.high pf6.Charge -0.8 "PF6 charge"
                  Expect.isTrue ec.ByMolecule "EC by molecule"
              | other -> failtestf "%A" other

          testCase "errors name the field and the value"
          <| fun () ->
              Expect.stringContains (error (Species.parse "Li:x:1")) "types of species 'Li' 'x'" "bad types"
              Expect.stringContains (error (Species.parse "Li:1:plus")) "charge of species 'Li' 'plus'" "bad charge"

              Expect.stringContains
                  (error (Species.parse "Li:1:1,P:1:-1"))
                  "atom type 1 belongs to several"
                  "shared type"

              Expect.stringContains (error (Species.parse "Li")) "'Li' is not NAME:TYPES:CHARGE" "shape"

          testCase "RDF pairs with defaults and errors"
          <| fun () ->
              match Species.parseRdfPairs "Li-P:1:2,Li-O:1:3+4:8:80" with
              | Ok [ a; b ] ->
                  Expect.equal (a.RMax, a.Bins) (12.0, 240) "defaults"
                  Expect.equal (b.TypesB, b.RMax, b.Bins) ([| 3; 4 |], 8.0, 80) "given"
              | other -> failtestf "%A" other

              Expect.stringContains (error (Species.parseRdfPairs "a:1:2:-3")) "RMAX of RDF pair 'a' is -3" "rmax"
              Expect.stringContains (error (Species.parseRdfPairs "a:1:2:5:0")) "BINS of RDF pair 'a' is '0'" "bins" ]
