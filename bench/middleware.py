"""Report what each request cost inside Django, in response headers the load driver reads.

X-Bench-Time: microseconds from entering the outermost middleware to leaving it (the view and every middleware).
X-Bench-CPU: microseconds of this thread's CPU in the same span (the wall time above also holds waits: on SQL, and
on a core while the machine is busy).
X-Bench-Queries: SQL statements run; X-Bench-DB-Time: microseconds spent waiting on them.
X-Bench-Instance: which gunicorn instance answered (BENCH_INSTANCE, set by bench/stack.py), when there are several.

BENCH_EXTRA_CPU (``bench/run.py --extra-cpu``): after the view, keep the thread busy for that fraction of the CPU
the request took, to see how much costlier the pages can get before a class's latency targets are missed.
"""

import os
import time

from django.db import connection


def timing(get_response):
    instance = os.environ.get("BENCH_INSTANCE", "")
    extra_cpu = float(os.environ.get("BENCH_EXTRA_CPU") or 0)

    def middleware(request):
        stats = {"queries": 0, "db": 0.0}

        def count(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                stats["queries"] += 1
                stats["db"] += time.perf_counter() - started

        started = time.perf_counter()
        cpu_started = time.thread_time()
        with connection.execute_wrapper(count):
            response = get_response(request)
        if extra_cpu:
            busy_until = time.thread_time() + (time.thread_time() - cpu_started) * extra_cpu
            while time.thread_time() < busy_until:
                pass
        response["X-Bench-CPU"] = str(int((time.thread_time() - cpu_started) * 1e6))
        response["X-Bench-Time"] = str(int((time.perf_counter() - started) * 1e6))
        response["X-Bench-Queries"] = str(stats["queries"])
        response["X-Bench-DB-Time"] = str(int(stats["db"] * 1e6))
        if instance:
            response["X-Bench-Instance"] = instance
        return response

    return middleware
