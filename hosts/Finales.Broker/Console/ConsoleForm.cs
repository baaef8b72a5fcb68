using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Finales.Broker.WebConsole;

/// <summary>A chemical offered by the form's pickers: one the tenants' limitations name.</summary>
public sealed record ChemicalChoice(string Smiles, string InChIKey);

/// <summary>
/// A field of the generated form. Kinds: number, integer, text, boolean, choice (an enum), formulation (rows of
/// chemical, fraction and fraction type), json (any other structure, typed as JSON).
/// </summary>
public sealed record FormField(string Name, string Label, string Kind, string? Unit, bool Required, string Description, IReadOnlyList<string> Choices);

/// <summary>The new-request page: the capabilities to pick from, and for the picked one its fields, chemicals and the tenants to post for.</summary>
public sealed record NewRequestModel(
    IReadOnlyList<CapabilityRecord> Capabilities, CapabilityRecord? Chosen, IReadOnlyList<FormField> Fields, IReadOnlyList<ChemicalChoice> Chemicals,
    IReadOnlyList<TenantRecord> Tenants, int Rows, IReadOnlyDictionary<string, string[]> Values);

/// <summary>
/// Generates the new-request form from a capability's JSON schema (pydantic-2 output: $defs/$ref, allOf wrappers,
/// anyOf with null) and turns a posted form back into a FINALES2 request body.
/// </summary>
public static class ConsoleForm
{
    public const int FormulationRows = 5;

    public static IReadOnlyList<FormField> Fields(string schemaJson)
    {
        using var doc = JsonDocument.Parse(schemaJson);
        var root = doc.RootElement;
        var schema = Resolve(root, root, out _);
        var required = schema.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.Array
            ? r.EnumerateArray().Select(x => x.GetString() ?? "").ToHashSet() : [];
        if (!schema.TryGetProperty("properties", out var props) || props.ValueKind != JsonValueKind.Object) return [];
        var fields = new List<FormField>();
        foreach (var p in props.EnumerateObject())
        {
            var raw = p.Value;
            var s = Resolve(raw, root, out var nullable);
            var label = Str(raw, "title") ?? Str(s, "title") ?? p.Name;
            var description = Str(raw, "description") ?? Str(s, "description") ?? "";
            var unit = Str(raw, "unit") ?? Str(s, "unit");
            var isRequired = required.Contains(p.Name) && !nullable;
            var type = Str(s, "type");
            string kind;
            IReadOnlyList<string> choices = [];
            if (s.TryGetProperty("enum", out var e) && e.ValueKind == JsonValueKind.Array)
            {
                kind = "choice";
                choices = e.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText()).ToList();
            }
            else if (type == "array" && s.TryGetProperty("items", out var items) && IsComponent(Resolve(items, root, out _)))
                kind = "formulation";
            else
                kind = type switch { "number" => "number", "integer" => "integer", "string" => "text", "boolean" => "boolean", _ => "json" };
            fields.Add(new FormField(p.Name, label, kind, unit, isRequired, description, choices));
        }
        return fields;
    }

    private static bool IsComponent(JsonElement s) =>
        s.TryGetProperty("properties", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("chemical", out _) && p.TryGetProperty("fraction", out _);

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>Follows $ref into $defs, unwraps one-element allOf and anyOf-with-null (then <paramref name="nullable"/>).</summary>
    private static JsonElement Resolve(JsonElement s, JsonElement root, out bool nullable)
    {
        nullable = false;
        for (var depth = 0; depth < 16 && s.ValueKind == JsonValueKind.Object; depth++)
        {
            if (s.TryGetProperty("$ref", out var re) && re.GetString() is { } path && path.StartsWith("#/", StringComparison.Ordinal))
            {
                var target = root;
                foreach (var part in path[2..].Split('/'))
                    if (!target.TryGetProperty(part, out target)) return s;
                s = target;
            }
            else if (s.TryGetProperty("allOf", out var all) && all.ValueKind == JsonValueKind.Array && all.GetArrayLength() == 1)
                s = all[0];
            else if (s.TryGetProperty("anyOf", out var any) && any.ValueKind == JsonValueKind.Array)
            {
                var others = any.EnumerateArray().Where(x => Str(x, "type") != "null").ToList();
                if (others.Count != 1) return s;
                nullable |= others.Count < any.GetArrayLength();
                s = others[0];
            }
            else return s;
        }
        return s;
    }

    /// <summary>The chemicals the active tenants' limitations name for (quantity, method): the pickers' choices, read by
    /// the core's limitations parser (<see cref="LimitationsJson.Chemicals"/>: first mention first, one per InChIKey).</summary>
    public static IReadOnlyList<ChemicalChoice> Chemicals(IEnumerable<TenantRecord> tenants, string quantity, string method) =>
        LimitationsJson.Chemicals(tenants.Where(t => t.IsActive).Select(t => t.LimitationsJson), quantity, method)
            .Select(c => new ChemicalChoice(c.Smiles, c.InChIKey)).ToList();

    /// <summary>
    /// The request body of a posted form, or the field-named problems: numbers that are not numbers, a missing required
    /// field, fractions outside [0, 1] or not summing to 1 (the core's check), JSON that is not JSON.
    /// </summary>
    public static (JsonObject? Body, List<string> Errors) Body(CapabilityRecord capability, IReadOnlyList<FormField> fields, IReadOnlyList<ChemicalChoice> chemicals, IFormCollection form)
    {
        var errors = new List<string>();
        var parameters = new JsonObject();
        foreach (var f in fields)
        {
            var value = form["f." + f.Name].ToString().Trim();
            switch (f.Kind)
            {
                case "formulation":
                    if (Formulation(f, chemicals, form, errors) is { } rows) parameters[f.Name] = rows;
                    continue;
                case "boolean":
                    parameters[f.Name] = value == "on" || value == "true";
                    continue;
            }
            if (value.Length == 0)
            {
                if (f.Required) errors.Add($"{f.Name}: required");
                continue;
            }
            switch (f.Kind)
            {
                case "number" or "integer":
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) || !double.IsFinite(x) || (f.Kind == "integer" && x != Math.Floor(x)))
                    {
                        errors.Add($"{f.Name}: '{ApiError.Echo(value)}' is not {(f.Kind == "integer" ? "a whole number" : "a number")}");
                        continue;
                    }
                    if (f.Unit == "kelvin" && form["u." + f.Name].ToString() == "celsius") x = ConsoleCore.KelvinOfCelsius(x);
                    parameters[f.Name] = f.Kind == "integer" ? JsonValue.Create((long)x) : JsonValue.Create(x);
                    break;
                case "json":
                    try { parameters[f.Name] = JsonNode.Parse(value); }
                    catch (JsonException e) { errors.Add($"{f.Name}: not JSON ({e.Message})"); }
                    break;
                default:
                    parameters[f.Name] = value;
                    break;
            }
        }
        var tenant = form["tenant"].ToString();
        if (tenant.Length == 0) errors.Add("tenant: choose the tenant the request is posted for");
        if (errors.Count > 0) return (null, errors);
        var body = new JsonObject
        {
            ["quantity"] = capability.Quantity,
            ["methods"] = new JsonArray(capability.Method),
            ["parameters"] = new JsonObject { [capability.Method] = parameters },
            ["tenant_uuid"] = tenant,
        };
        return (body, errors);
    }

    private static JsonArray? Formulation(FormField f, IReadOnlyList<ChemicalChoice> chemicals, IFormCollection form, List<string> errors)
    {
        var picked = form[f.Name + ".chemical"];
        var fractions = form[f.Name + ".fraction"];
        var types = form[f.Name + ".fraction_type"];
        var rows = new JsonArray();
        var values = new List<double>();
        var before = errors.Count;
        for (var i = 0; i < picked.Count; i++)
        {
            var key = picked[i] ?? "";
            if (key.Length == 0) continue;
            var row = rows.Count;
            var chemical = chemicals.FirstOrDefault(c => c.InChIKey == key);
            if (chemical is null) { errors.Add($"{f.Name}[{row}].chemical: '{ApiError.Echo(key)}' is not a chemical of this capability"); continue; }
            var text = i < fractions.Count ? (fractions[i] ?? "").Trim() : "";
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var fraction))
            {
                errors.Add($"{f.Name}[{row}].fraction: '{ApiError.Echo(text)}' is not a number");
                continue;
            }
            values.Add(fraction);
            var fractionType = i < types.Count && !string.IsNullOrWhiteSpace(types[i]) ? types[i]!.Trim() : "molar fraction";
            rows.Add(FormulationJson.Entry(chemical.Smiles, chemical.InChIKey, fraction, fractionType));
        }
        if (errors.Count > before) return null;
        if (rows.Count == 0)
        {
            if (f.Required) errors.Add($"{f.Name}: pick at least one chemical");
            return null;
        }
        if (!ConsoleCore.TryCheckFractions(values, out var problem)) { errors.Add(problem); return null; }
        return rows;
    }
}
