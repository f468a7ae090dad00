// ESLint (flat config) for the map's own script; run by scripts/test.sh.
"use strict";

const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  {
    ignores: ["minemap/render/vendor/**", "node_modules/**", ".venv/**", "**/test-output/**"],
  },
  js.configs.recommended,
  {
    files: ["minemap/render/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: "script",
      globals: {
        ...globals.browser,
        L: "readonly",
        MINEMAP_FEATURE_KEYS: "readonly",
      },
    },
    rules: {
      eqeqeq: "error",
      curly: "error",
      "consistent-return": "error",
      "default-case": "error",
      "dot-notation": "error",
      "no-else-return": "error",
      "no-invalid-this": "error",
      "no-lonely-if": "error",
      "no-loop-func": "error",
      "no-multi-assign": "error",
      "no-nested-ternary": "error",
      "no-unused-expressions": "error",
      radix: "error",
      "no-implicit-globals": "error",
      "no-shadow": "error",
      "no-use-before-define": ["error", {functions: false}],
      "no-var": "off",
      strict: ["error", "function"],
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-restricted-properties": [
        "error",
        {property: "innerHTML", message: "Build page content with textContent (SECURITY.md)."},
        {property: "outerHTML", message: "Build page content with textContent (SECURITY.md)."},
        {property: "insertAdjacentHTML", message: "Build page content with textContent (SECURITY.md)."},
        {object: "document", property: "write", message: "Build page content with the DOM."},
      ],
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: {sourceType: "commonjs", globals: globals.node},
  },
];
