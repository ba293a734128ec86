"""Sets one key of a results JSON file, keeping the keys other benchmarks wrote there.

usage: python3 bench/python/merge_results.py PATH KEY JSON_VALUE
(results/sql_bench.json holds "runs" from bench/sql_bench.sh and "distinct_scoring" from
bench/distinct_scoring.sh.)
"""
import json
import os
import sys

path, key, value = sys.argv[1], sys.argv[2], sys.argv[3]
doc = json.load(open(path)) if os.path.exists(path) else {}
doc[key] = json.loads(value)
json.dump(doc, open(path, "w"), indent=1)
