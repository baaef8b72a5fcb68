namespace Finales.Core

open System.Text.Json
open System.Text.Json.Nodes

// TEMPORARY interface shim: replaced by the validation branch (schema + limitations) on merge.

/// One validation problem, with the JSON path of the offending value.
type ValidationIssue = { Path: string list; Message: string; Kind: string }

[<RequireQualifiedAccess>]
module CapabilitySchema =
    type Compiled = { Schema: JsonElement }
    let compile (schema: JsonElement) : Result<Compiled, string> = Ok { Schema = schema.Clone() }
    let validate (_: Compiled) (_: JsonElement) : ValidationIssue list = []
    let template (_: JsonElement) : JsonNode = JsonObject() :> JsonNode

[<RequireQualifiedAccess>]
module Limitations =
    type Parsed = { Doc: JsonElement }
    let parse (e: JsonElement) : Result<Parsed, string> = Ok { Doc = e.Clone() }
    let check (_: Parsed list) (_: JsonElement) : Result<unit, ValidationIssue list> = Ok()
