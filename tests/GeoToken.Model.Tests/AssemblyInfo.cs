// torch's global random generator and thread pool are process-wide: tests that seed it or check
// bit-exact reproducibility must not run concurrently with tests that consume random numbers.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
