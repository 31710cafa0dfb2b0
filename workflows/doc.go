// Package workflows loads, validates and compiles hookflow's YAML workflow
// files (schema v1) and renders their ${{ }} templates.
//
// Load reads files and directories of *.yaml/*.yml files into a Set. Loading
// is strict: unknown keys, wrong types, bad durations and sizes, duplicate
// step ids, references to unknown or later steps, unknown actions, `with`
// inputs that break their action's input schema, expressions that do not
// compile, names used where they are not available, and duplicate workflow
// names or webhook paths across files are all problems. Load reports every
// problem of every file at once, each as "file:line:col: message".
//
// Every expression (filter, if, idempotency_key and the inside of each
// ${{ }}) is compiled once, at load, with expr-lang/expr against the typed
// environment Env, so a misspelt name is a load error. Evaluation is bounded:
// at most MaxExpressionNodes nodes per expression and ExpressionMemoryBudget
// per evaluation; date functions use UTC.
//
// # Example
//
//	set, err := workflows.Load(workflows.Options{Actions: registry}, "workflows/")
//	if err != nil {
//		log.Fatal(err) // every problem, one per line
//	}
//	secrets, err := workflows.LoadSecrets("/run/secrets", set.SecretNames(), os.Getenv)
//	...
//	w := set.ByPath("stripe")
//	env := &workflows.Env{Event: event, Secrets: secrets}
//	if ok, err := w.Trigger.Filter.Bool(env); err != nil || !ok { ... }
//	input, err := w.Steps[0].With.RenderMap(env)
//
// # Decisions worth knowing
//
//   - on.webhook.signature is required, with a scheme; `scheme: none` must be
//     written out to accept unsigned requests. secret is required unless the
//     scheme is none; tolerance is only accepted for timestamped schemes
//     (slack, standard, stripe); header, algorithm, encoding and prefix only
//     for hmac, where header is required and stored in lower case.
//   - Durations are Go durations ("90s", "1h30m") and may start with days:
//     "2d", "1d12h". Sizes (max_body) are bytes, or a number with B, KB, MB,
//     GB (powers of 1000) or KiB, MiB, GiB, K, M, G (powers of 1024).
//   - filter and if are bare expressions; a value that is exactly one
//     ${{ }} is accepted too. Where an expression may look:
//     filter and idempotency_key: event, env, secrets (no run exists yet);
//     signature.secret: secrets and env; env: event, secrets, run;
//     a step's if and with: everything, but steps.NAME only for earlier
//     steps. An env entry used where one of its own names is not available
//     is a problem too.
//   - secrets may only be used by name (secrets.NAME or secrets["NAME"]), and
//     $env not at all, so Set.SecretNames knows every secret and no
//     expression can dump them all.
//   - A step's `with` is checked against its action's input schema even
//     when it has ${{ }} parts: a string with parts is known to be a
//     string, an exact ${{ }} may be anything.
//   - LoadSecrets prefers a file in the secrets directory over an
//     environment variable of the same name.
//   - A workflow's Version is the first 12 hex digits of the sha256 of its
//     file.
//
// # Caveats
//
//   - Member access on a missing value fails at run time, as it does in expr:
//     event.body.data.object fails when data is absent. Write
//     event.body.data?.object, or use ??, where a field is optional.
//   - Values rendered from an exact ${{ }} may share structure with the Env
//     (a map of event.body, say); treat them as read-only.
//   - Rendered values may contain secrets, since that is what they are for;
//     errors (EvalError, SchemaErrors, LoadSecrets') never quote secret
//     values.
//   - Positions inside expressions are exact for plain, quoted (without
//     escapes) and literal block scalars; elsewhere they point at the start
//     of the YAML value. YAML syntax errors carry a line only.
package workflows
