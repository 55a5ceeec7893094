using Xunit;

// The Coyote engine uses wall-clock timeouts to detect hangs and uncontrolled concurrency.
// Engines running side by side on a small machine would only make those timeouts noisier.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
