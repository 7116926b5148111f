// Integration tests against the namespace test cluster (see Tests/Cluster).
