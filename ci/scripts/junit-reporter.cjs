// The pipeline's own JUnit reporter for Jest (`--reporters={tools}/junit-reporter.cjs`), so an app needs only `jest`.
// Written against Jest's reporter API: Jest constructs it with its resolved global config and calls onRunComplete
// with the aggregated results. It writes one <testsuite> per test file (name and file relative to rootDir), one
// <testcase> per test (classname and name: the test's full name), a <failure> per failed test, <skipped/> for
// skipped and todo tests, and an <error> case for a file that failed to run. Where: JEST_JUNIT_OUTPUT_DIR and
// JEST_JUNIT_OUTPUT_NAME (jest-junit's variables, so existing settings keep working), else ./junit.xml.
"use strict";

const fs = require("fs");
const path = require("path");

const ANSI = /\u001b\[[0-9;]*m/g;
const INVALID_XML = /[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

function xml(text) {
  return String(text)
    .replace(ANSI, "")
    .replace(INVALID_XML, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function attributes(values) {
  return Object.entries(values)
    .map(([name, value]) => ` ${name}="${xml(value)}"`)
    .join("");
}

function firstLine(text) {
  return (String(text).replace(ANSI, "").split("\n").find((line) => line.trim()) || "").trim();
}

function seconds(ms) {
  return ((ms || 0) / 1000).toFixed(3);
}

function testcase(test, file) {
  const name = test.fullName || [...(test.ancestorTitles || []), test.title].join(" ");
  const open = `    <testcase${attributes({ classname: name, name, time: seconds(test.duration), file })}`;
  if (test.status === "failed") {
    const text = (test.failureMessages || []).join("\n");
    return `${open}>\n      <failure${attributes({ message: firstLine(text) })}>${xml(text)}</failure>\n    </testcase>`;
  }
  if (test.status === "pending" || test.status === "skipped" || test.status === "todo") {
    return `${open}>\n      <skipped/>\n    </testcase>`;
  }
  return `${open}/>`;
}

function testsuite(suite, rootDir) {
  const file = path.relative(rootDir, suite.testFilePath).split(path.sep).join("/");
  const tests = suite.testResults || [];
  const stats = suite.perfStats || {};
  const cases = tests.map((test) => testcase(test, file));
  const broken = suite.testExecError || (suite.failureMessage && tests.length === 0);
  if (broken) {
    const text = suite.failureMessage || (suite.testExecError && suite.testExecError.message) || "";
    cases.push(`    <testcase${attributes({ classname: file, name: "Test suite failed to run", time: "0.000", file })}>` +
      `\n      <error${attributes({ message: firstLine(text) })}>${xml(text)}</error>\n    </testcase>`);
  }
  const counts = {
    tests: cases.length,
    failures: tests.filter((test) => test.status === "failed").length,
    errors: broken ? 1 : 0,
    skipped: tests.filter((test) => ["pending", "skipped", "todo"].includes(test.status)).length,
  };
  const start = stats.start ? new Date(stats.start).toISOString().slice(0, 19) : "";
  const head = attributes({ name: file, ...counts, timestamp: start, time: seconds(stats.runtime), file });
  return { counts, time: stats.runtime || 0, text: `  <testsuite${head}>\n${cases.join("\n")}\n  </testsuite>` };
}

class JUnitReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const suites = results.testResults.map((suite) => testsuite(suite, this.rootDir));
    const total = (key) => suites.reduce((sum, suite) => sum + suite.counts[key], 0);
    const time = suites.reduce((sum, suite) => sum + suite.time, 0);
    const head = attributes({ name: "jest tests", tests: total("tests"), failures: total("failures"),
      errors: total("errors"), time: seconds(time) });
    const body = suites.map((suite) => suite.text).join("\n");
    const dir = process.env.JEST_JUNIT_OUTPUT_DIR || process.cwd();
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, process.env.JEST_JUNIT_OUTPUT_NAME || "junit.xml");
    fs.writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${head}>\n${body}\n</testsuites>\n`);
  }
}

module.exports = JUnitReporter;
