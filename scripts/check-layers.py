#!/usr/bin/env python3
"""The layer rules of ARCHITECTURE.md, checked: every dependency a target declares in
Package.swift and every `import` in its sources must point to a module on a lower row of the
table (never its own row, never above), and only the entry point and the HTTP module may import
a backend. Run by scripts/test.sh; exits non-zero naming each forbidden edge and where it is.

  scripts/check-layers.py              check the repository
  scripts/check-layers.py --self-test  show that an added forbidden import is caught
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Bottom to top, as ARCHITECTURE.md's table: a module may import modules on lower rows only.
ROWS = [
    ["StrataCore"],
    ["StrataML", "StrataMetadata", "StrataParquet"],
    ["StrataLake"],
    ["StrataFeatures"],
    ["StrataRegistry"],
    ["StrataTraining", "StrataServing"],
    ["StrataMonitoring"],
    ["StrataServer"],
    ["strata"],
]
# Implement protocols of the rows above; they may import up to layer 5 and only the entry
# point and the HTTP module (and tests) may import them.
BACKENDS = {"StrataRedis", "StrataS3", "StrataKafka"}
BACKEND_CEILING = 5  # row index of layers 3 and 5
BACKEND_USERS = {"StrataServer", "strata"}
# SQL stays behind the metadata store and the registry: no other module writes a query.
SQL_MODULES = {"SQLKit", "SQLiteKit", "PostgresKit"}
# StrataTesting too: the metadata store's conformance suite writes its own tables to check it.
SQL_USERS = {"StrataMetadata", "StrataRegistry", "StrataTesting"}
# Support targets outside the layers: test fixtures and the fuzzing driver read lower rows.
SUPPORT = {"StrataTesting": 5, "StrataFuzz": 2}  # the highest row each may read

ROW_OF = {module: row for row, modules in enumerate(ROWS) for module in modules}
STRATA_MODULES = set(ROW_OF) | BACKENDS | set(SUPPORT)


def allowed(importer, imported):
    """Why `importer` may not import `imported`, or None when it may."""
    if imported in SQL_MODULES:
        return None if importer in SQL_USERS else f"SQL belongs to {' and '.join(sorted(SQL_USERS))}"
    if imported not in STRATA_MODULES or imported == importer:
        return None  # C libraries and packages are outside the rule
    if imported in BACKENDS:
        return None if importer in BACKEND_USERS else f"only {' and '.join(sorted(BACKEND_USERS))} wire backends"
    if imported in SUPPORT:
        return f"{imported} is test or fuzz support, not a layer"
    if importer in BACKENDS:
        ceiling = BACKEND_CEILING
    elif importer in SUPPORT:
        ceiling = SUPPORT[importer]
    else:
        ceiling = ROW_OF[importer] - 1
    if ROW_OF[imported] > ceiling:
        where = "its own row" if importer in ROW_OF and ROW_OF[imported] == ROW_OF[importer] else "a higher row"
        return f"{imported} is on {where}"
    return None


def declared_dependencies(package):
    """(target, dependency) pairs from `swift package dump-package`'s JSON."""
    for target in package["targets"]:
        if target["type"] == "test":
            continue
        for dependency in target.get("dependencies", []):
            for kind in ("byName", "target", "product"):
                if kind in dependency:
                    yield target["name"], dependency[kind][0]


def source_imports(root, target):
    """(module, file, line) for each `import` of a Strata module in a target's sources."""
    folder = os.path.join(root, "Sources", target)
    for directory, _, files in os.walk(folder):
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(directory, name)
            with open(path, encoding="utf-8") as source:
                for number, line in enumerate(source, 1):
                    found = re.match(r"\s*(?:@\w+(?:\([^)]*\))?\s+)*import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?(\w+)", line)
                    if found and found.group(1) in STRATA_MODULES | SQL_MODULES:
                        yield found.group(1), os.path.relpath(path, root), number


def check(root, package):
    problems = []
    targets = [t["name"] for t in package["targets"] if t["type"] != "test"]
    unknown = [t for t in targets if t.startswith("Strata") and t not in STRATA_MODULES] + [t for t in targets if t == "strata" and t not in ROW_OF]
    for target in unknown:
        problems.append(f"Package.swift: target {target} has no row in scripts/check-layers.py (add it where ARCHITECTURE.md places it)")
    for target, dependency in declared_dependencies(package):
        if target in STRATA_MODULES and (why := allowed(target, dependency)):
            problems.append(f"Package.swift: {target} depends on {dependency}: {why}")
    for target in targets:
        if target not in STRATA_MODULES:
            continue
        for module, path, line in source_imports(root, target):
            if why := allowed(target, module):
                problems.append(f"{path}:{line}: {target} imports {module}: {why}")
    return problems


def dump_package(root):
    output = subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def self_test(package):
    """Adds a forbidden import (Serving → Training) to a copy of Serving's sources and expects a refusal."""
    with tempfile.TemporaryDirectory() as copy:
        folder = os.path.join(copy, "Sources", "StrataServing")
        os.makedirs(folder)
        with open(os.path.join(folder, "Forbidden.swift"), "w") as source:
            source.write("import StrataCore\nimport StrataTraining\n")
        problems = check(copy, package)
    expected = "Sources/StrataServing/Forbidden.swift:2: StrataServing imports StrataTraining: StrataTraining is on its own row"
    print("\n".join(problems))
    return expected in problems


def main():
    package = dump_package(ROOT)
    if "--self-test" in sys.argv:
        if self_test(package):
            print("check-layers: the added forbidden import was refused, as it should be")
            return 0
        print("check-layers: the added forbidden import was NOT refused", file=sys.stderr)
        return 1
    problems = check(ROOT, package)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check-layers: {len(problems)} import(s) break ARCHITECTURE.md's layer rules", file=sys.stderr)
        return 1
    print(f"check-layers: every import of {len(ROW_OF) + len(BACKENDS)} modules flows downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
