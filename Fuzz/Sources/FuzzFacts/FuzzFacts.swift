import ClusterKit

/// The facts script's report (FactsParser, FirewalldZone inside it). Property: no crash, no hang; any
/// output, however garbled by the host, is parsed or refused with a FactsError.
let candidates: [FactsCandidate] = ["el5", "el8", "debian12"].compactMap { key in
    OSFamilies.named(key).map {
        FactsCandidate(family: $0, query: FactsQuery(
            packages: ["memcached", "httpd"], services: ["memcached"], files: ["/etc/php.ini", "/etc/my file"],
            firewall: true, selinuxBooleans: ["httpd_can_network_memcache"], selinuxPorts: ["memcache_port_t/11311"]))
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFacts(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? FactsParser.parse(bytes, host: "fuzz", candidates: candidates)
    return 0
}
