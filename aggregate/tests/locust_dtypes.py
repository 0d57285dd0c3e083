"""Loads Locust's CSV files and aggregate's with pandas, as a Locust user's
analysis script does, and fails (exit 1) on any difference in column names,
order or dtypes. Usage: locust_dtypes.py LOCUST_PREFIX OURS_PREFIX"""
import sys

import pandas as pd

locust, ours = sys.argv[1], sys.argv[2]
problems = []
for name in ["stats", "stats_history", "failures", "exceptions"]:
    theirs = pd.read_csv(f"{locust}{name}.csv")
    mine = pd.read_csv(f"{ours}{name}.csv")
    if list(theirs.columns) != list(mine.columns):
        problems.append(f"{name}.csv columns: Locust {list(theirs.columns)}, ours {list(mine.columns)}")
        continue
    for column in theirs.columns:
        if theirs[column].dtype != mine[column].dtype:
            problems.append(
                f"{name}.csv `{column}`: Locust {theirs[column].dtype}, ours {mine[column].dtype}"
            )
    if name != "exceptions" and mine.empty:
        problems.append(f"{name}.csv of ours has no rows")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
