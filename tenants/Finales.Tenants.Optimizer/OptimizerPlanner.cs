using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Finales.Client;
using Finales.Core;
using Finales.Core.Interop;
using Finales.Optimizer.Interop;

namespace Finales.Tenants.Optimizer;

/// <summary>Everything the optimizer reads from the broker in one iteration.</summary>
public sealed record BrokerSnapshot(
    JsonElement Capabilities, JsonElement Limitations, IReadOnlyList<ResultInfo> Results, IReadOnlyList<RequestInfo> Requests);

/// <summary>One request to post for a point: the capability and the full FINALES2 request body.</summary>
public sealed record PlannedRequest(RequestTarget Target, string Body);

/// <summary>One suggested point with the model's view of it (merits: lower is better) and its requests.</summary>
public sealed record PlannedPoint(
    IReadOnlyDictionary<string, double> Formulation, double Temperature, string PointKey,
    double PredictedMerit, double PredictedStd, double Acquisition, IReadOnlyList<PlannedRequest> Requests);

/// <summary>
/// The decision of one iteration. <see cref="Wait"/> non-empty: nothing to do now and why (queue full, capability not
/// offered yet, ...). Otherwise <see cref="Points"/> to post (possibly fewer than the batch when suggestions were
/// duplicates or infeasible: <see cref="Skipped"/> says why).
/// </summary>
public sealed record Plan(
    string Wait, IReadOnlyList<PlannedPoint> Points, IReadOnlyList<string> Skipped,
    int Observations, int CompletePoints, int FailedPoints, int OpenRequests, int OwnRequests,
    JoinedPoint? Best, double BestMerit, IReadOnlyList<JoinedPoint> Joined, string DesignSpace, string Mode);

/// <summary>
/// The pure part of the optimizer tenant: from a <see cref="BrokerSnapshot"/> to the requests to post. Deterministic:
/// the same options, tenant, snapshot and seed give the same plan. Every planned request is valid against its
/// capability's JSON schema and the current limitations, and no point duplicates one of this tenant's requests
/// (pending, reserved, resolved or unsolicited) by formulation key and temperature.
/// </summary>
public sealed class OptimizerPlanner
{
    private readonly OptimizerOptions _o;
    private readonly Guid _tenant;
    private readonly IReadOnlyList<ObjectiveOptions> _objectives;
    private readonly IReadOnlyList<RequestTarget> _targets;
    private readonly Dictionary<string, ParameterSchema> _schemas = new(StringComparer.Ordinal);

    public OptimizerPlanner(OptimizerOptions options, Guid tenant)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Problems();
        if (problems.Count > 0) throw new ArgumentException("invalid optimizer options: " + string.Join("; ", problems), nameof(options));
        _o = options;
        _tenant = tenant;
        _objectives = options.EffectiveObjectives;
        _targets = options.EffectiveRequests;
    }

    public IReadOnlyList<ObjectiveOptions> Objectives => _objectives;
    public IReadOnlyList<RequestTarget> Targets => _targets;

    private static readonly string[] Open = ["pending", "reserved"];

    /// <summary>This tenant's requests in the snapshot.</summary>
    public IReadOnlyList<RequestInfo> Own(BrokerSnapshot s) =>
        s.Requests.Where(r => Guid.TryParse(r.TenantUuid, out var t) && t == _tenant).ToList();

    /// <summary>"quantity/method|point key" of every own request that is not retracted (the dedupe set).</summary>
    public HashSet<string> Taken(IEnumerable<RequestInfo> own)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in own)
        {
            if (r.Status == "retracted") continue;
            foreach (var m in r.Methods)
                if (PointOf(r, m) is { } p) set.Add($"{r.Quantity}/{m}|{p.PointKey}");
        }
        return set;
    }

    private RequestPointSpec? PointOf(RequestInfo r, string method) =>
        TenantDecisions.TryRequestPoint(r.Parameters, method, _o.FractionDigits, _o.TemperatureDigits, out var point) ? point : null;

    private static JsonElement? Find(JsonElement list, RequestTarget t)
    {
        if (list.ValueKind != JsonValueKind.Array) return null;
        foreach (var e in list.EnumerateArray())
            if (e.ValueKind == JsonValueKind.Object && e.TryGetProperty("quantity", out var q) && q.ValueKind == JsonValueKind.String && q.GetString() == t.Quantity
                && e.TryGetProperty("method", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() == t.Method)
                return e;
        return null;
    }

    private Plan WaitPlan(string why, int obs = 0, int complete = 0, int failed = 0, int open = 0, int own = 0, JoinedPoint? best = null, double bestMerit = double.NaN,
        IReadOnlyList<JoinedPoint>? joined = null, string space = "") =>
        new(why, [], [], obs, complete, failed, open, own, best, bestMerit, joined ?? [], space, "wait");

    /// <summary>Plans one iteration (see the class summary).</summary>
    public Plan Decide(BrokerSnapshot s)
    {
        ArgumentNullException.ThrowIfNull(s);
        // 1. what we know: observations, best point so far
        var own = Own(s);
        var requestsById = s.Requests.GroupBy(r => r.Uuid.ToString("D")).ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        var ordered = s.Results.OrderBy(r => r.Ctime, StringComparer.Ordinal).ThenBy(r => r.Uuid).ToList();
        var extracted = ResultReader.Extract(ordered, _objectives, requestsById, _o.MinRating, _o.FractionDigits, _o.TemperatureDigits);
        var joined = ResultReader.Join(extracted.Values, _objectives);
        var complete = joined.Where(p => p.Complete).ToList();
        var merits = ResultReader.Merits(complete, _objectives, out _);
        var bestIndex = TenantDecisions.BestIndex(merits);
        var best = bestIndex < 0 ? null : complete[bestIndex];
        var bestMerit = bestIndex < 0 ? double.NaN : merits[bestIndex];
        var failed = joined.Count(p => p.Failed);
        var openCount = own.Count(r => Open.Contains(r.Status));
        Plan Wait(string why, string space = "") => WaitPlan(why, extracted.Values.Count, complete.Count, failed, openCount, own.Count, best, bestMerit, joined, space);

        // 2. room in the queue: the requests of the next points, a shared target only at the points its share picks
        var taken = Taken(own);
        var shares = _targets.Select(t => t.Share).ToList();
        var batch = BatchPlanner.RoomShared(_o.QueueCap, openCount, shares, _o.Seed, taken, _o.BatchSize);
        if (batch <= 0) return Wait($"queue full: {openCount} own requests pending or reserved, cap {_o.QueueCap} ({_targets.Count} per point)");

        // 3. schemas and limitations of every requested capability
        var checks = new List<(RequestTarget T, ParameterSchema Schema, ParameterLimits Limits)>();
        var spaceTexts = new List<string>();
        var chemicals = new Dictionary<string, OfferedChemicalSpec>(StringComparer.Ordinal);
        foreach (var t in _targets)
        {
            if (Find(s.Capabilities, t) is not { } cap || !cap.TryGetProperty("json_schema_specifications", out var spec))
                return Wait($"capability {t} is not registered on the broker (GET /capabilities/)");
            var raw = spec.GetRawText();
            if (!_schemas.TryGetValue(raw, out var compiled))
            {
                if (!RequestChecks.TryCompileSchema(spec, out compiled, out var schemaError))
                    return Wait($"the parameter schema of {t} does not compile: {schemaError}");
                _schemas[raw] = compiled;
            }
            if (Find(s.Limitations, t) is not { } lim || !lim.TryGetProperty("limitations", out var docs)
                || docs.ValueKind is not (JsonValueKind.Array or JsonValueKind.Object) || (docs.ValueKind == JsonValueKind.Array && docs.GetArrayLength() == 0))
                return Wait($"no active tenant offers {t} yet (no limitations in GET /limitations/)");
            if (!RequestChecks.TryParseLimits(docs.ValueKind == JsonValueKind.Array ? docs.EnumerateArray().ToList() : [docs], out var limits, out var limitsError))
                return Wait($"the limitations of {t} do not parse: {limitsError}");
            checks.Add((t, compiled, limits));
            spaceTexts.Add(docs.GetRawText());
            foreach (var c in TenantDecisions.OfferedChemicals(docs)) chemicals.TryAdd(c.Key, c);
        }
        if (!OptimizerFacade.TryDesignSpace(spaceTexts, _o.Chemicals, _o.TemperatureMin, _o.TemperatureMax, out var space, out var spaceError))
            return Wait($"no design space: {spaceError}");

        // 4. suggest: own open requests are conditioned on; failed results mark their region
        var observations = extracted.Values.Select(v => new ObservationSpec
        {
            Formulation = v.Formulation, Temperature = v.Temperature, Source = "", Quantity = v.Objective,
            Value = v.Value, Rating = double.IsNaN(v.Rating) ? null : v.Rating, Success = v.Success, Deleted = false,
        }).ToList();
        var pending = new List<PendingSpec>();
        var pendingKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in own.Where(r => Open.Contains(r.Status)).OrderBy(r => r.Ctime, StringComparer.Ordinal).ThenBy(r => r.Uuid))
            foreach (var m in r.Methods)
                if (PointOf(r, m) is { } p && pendingKeys.Add(p.PointKey))
                    pending.Add(new PendingSpec { Formulation = Formulations.Round(p.Formulation, _o.FractionDigits), Temperature = p.TemperatureKelvin, Source = "" });
        var defaults = OptimizerFacade.DefaultOptions;
        var options = new SuggestOptions
        {
            BatchSize = batch + 2, // spares for suggestions that turn out duplicates after rounding
            Seed = unchecked(_o.Seed * 1_000_003 + own.Count),
            SqrtBeta = _o.SqrtBeta,
            Delta = defaults.Delta,
            BetaScale = _o.BetaScale,
            MinRating = double.NegativeInfinity, // already applied when reading
            TargetSource = "",
            Candidates = _o.Candidates,
            Softness = defaults.Softness,
            TemperatureMin = null,
            TemperatureMax = null,
        };
        var objectives = _objectives.Select(o => new ObjectiveSpec
        { Quantity = o.EffectiveName, Goal = o.GoalValue, Tolerance = o.Tolerance, Kind = o.KindValue }).ToList();
        if (!OptimizerFacade.TrySuggest(space, objectives, observations, pending, options, out var suggested, out var suggestError))
            return Wait($"the optimizer could not suggest: {suggestError}", space);
        var mode = complete.Count + failed == 0 ? "random" : "model";

        // 5. round, dedupe, build, validate (the core's BatchSelection)
        var byTarget = checks.ToDictionary(c => c.T);
        // A target with a share below 1 is requested only at the points RequestShare picks (seed, point index over the run).
        var selection = BatchPlanner.SelectShared(suggested, batch, _o.FractionDigits, _o.TemperatureDigits, _targets,
            shares, _o.Seed, taken,
            (RequestTarget target, IReadOnlyDictionary<string, double> f, double t) =>
            {
                var (_, schema, limits) = byTarget[target];
                if (!TenantDecisions.TryParameters(f, t, chemicals, out var parameters, out var missing)) return CheckOutcome<PlannedRequest>.Refuse(missing);
                var issues = RequestChecks.SchemaIssues(schema, parameters);
                if (issues.Count > 0) return CheckOutcome<PlannedRequest>.Refuse($"{target} schema: " + string.Join("; ", issues));
                var outside = RequestChecks.LimitIssues(limits, parameters);
                if (outside.Count > 0) return CheckOutcome<PlannedRequest>.Refuse($"{target} limitations: " + string.Join("; ", outside));
                return CheckOutcome<PlannedRequest>.Accept(new PlannedRequest(target, Body(target, parameters)));
            });
        var points = selection.Points.Select(p =>
        {
            var sg = suggested[p.SuggestionIndex];
            return new PlannedPoint(p.Formulation, p.Temperature, p.PointKey, sg.PredictedMerit, sg.PredictedStd, sg.Acquisition, p.Requests);
        }).ToList();
        var skipped = selection.Skipped;
        return new Plan("", points, skipped, extracted.Values.Count, complete.Count, failed, openCount, own.Count, best, bestMerit, joined, space, mode);
    }

    /// <summary>Fractions rounded to <paramref name="digits"/> decimals, zeros dropped, the largest adjusted so the sum is exactly 1 at that precision.</summary>
    public static Dictionary<string, double> RoundToSum(IReadOnlyDictionary<string, double> fractions, int digits) =>
        new(BatchPlanner.RoundToSum(fractions, digits), StringComparer.Ordinal);

    private string Body(RequestTarget t, JsonElement parameters)
    {
        var o = new JsonObject
        {
            ["quantity"] = t.Quantity,
            ["methods"] = new JsonArray(t.Method),
            ["parameters"] = new JsonObject { [t.Method] = JsonNode.Parse(parameters.GetRawText()) },
            ["tenant_uuid"] = _tenant.ToString("D"),
        };
        return o.ToJsonString();
    }

    /// <summary>A short, stable rendering of a formulation for logs: "EC 0.300000, LiPF6 0.100000, ..." by chemical name.</summary>
    public static string Describe(IReadOnlyDictionary<string, double> f, double t)
    {
        static string Name(string key) { try { return ScienceApi.FindChemical(key).Name; } catch (ScienceException) { return key; } }
        return string.Join(", ", f.OrderBy(kv => Name(kv.Key), StringComparer.Ordinal).Select(kv => $"{Name(kv.Key)} {kv.Value.ToString("0.######", CultureInfo.InvariantCulture)}"))
               + $" @ {t.ToString("0.##", CultureInfo.InvariantCulture)} K";
    }
}
