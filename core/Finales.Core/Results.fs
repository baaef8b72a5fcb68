namespace Finales.Core

/// Collecting many results into one.
[<RequireQualifiedAccess>]
module Results =

    /// All the values in order, or the first error in order (later items are not looked at).
    let all (results: Result<'a, 'e> seq) : Result<'a list, 'e> =
        let values = ResizeArray<'a>()
        use e = results.GetEnumerator()
        let mutable error = None

        while Option.isNone error && e.MoveNext() do
            match e.Current with
            | Ok v -> values.Add v
            | Error x -> error <- Some x

        match error with
        | Some x -> Error x
        | None -> Ok(List.ofSeq values)
