import Foundation
import Testing
@testable import ClusterKit

@Suite struct PlanJSONTests {
    @Test func documentShapeAndRoundTrip() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let plan = try await fixture.plan()
        let bytes = try PlanDocument(plan).encoded()

        let json = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(json["format"] as? String == "clusterctl-plan")
        #expect(json["version"] as? Int == 2)
        #expect(json["osFamily"] == nil, "the family is per host since version 2")
        let summary = try #require(json["summary"] as? [String: Int])
        #expect(summary == ["hosts": 3, "changedHosts": 3, "failedHosts": 0, "packages": 10, "files": 3, "services": 3,
                            "firewallChains": 3])
        let hosts = try #require(json["hosts"] as? [[String: Any]])
        #expect(hosts.map { $0["name"] as? String } == ["mc1", "web1", "web2"])
        let mc1 = hosts[0]
        #expect(Set(mc1.keys) == ["name", "roles", "address", "privateAddress", "ssh", "os", "osRelease", "fingerprint",
                                  "facts", "changes"])
        #expect(mc1["os"] as? String == "el5" && mc1["osRelease"] as? String == "CentOS release 5.11 (Final)")
        #expect((mc1["fingerprint"] as? String)?.count == 64)
        let changes = try #require(mc1["changes"] as? [[String: Any]])
        #expect(changes[0] as NSDictionary == ["kind": "install-package", "phase": "repository", "package": "epel-release"])
        let file = try #require(changes[2]["file"] as? [String: Any])
        #expect(file["path"] as? String == "/etc/sysconfig/memcached")
        #expect(file["mode"] as? String == "644")
        #expect(file["contentBase64"] as? String == Data(EngineFixture.sysconfig(MemcachedSettings()).utf8).base64EncodedString())
        #expect((file["diff"] as? String)?.hasPrefix("--- /dev/null\n") == true)
        let firewall = try #require(changes[4]["firewall"] as? [String: Any])
        #expect(changes[4]["kind"] as? String == "replace-firewall-chain" && changes[4]["phase"] as? String == "firewall")
        #expect(firewall as NSDictionary == ["chain": "CLUSTERCTL", "rules": [String](), "inputJumps": [Int](), "diff": ""])
        #expect(changes[5] as NSDictionary == ["kind": "start-service", "phase": "services", "service": "memcached",
                                              "reason": "not running"])

        let decoded = try PlanDocument.decode(bytes, file: "plan.json")
        // A saved plan does not carry the lock serials: applying it always reads the facts again.
        #expect(plan.hosts.allSatisfy { $0.lockSerial == "none" } && decoded.plan.hosts.allSatisfy { $0.lockSerial == nil })
        var withoutSerials = plan
        withoutSerials.requireRecheckUnderLock()
        #expect(decoded.plan == withoutSerials)
    }

    @Test func badSavedPlanNamesFileAndField() throws {
        #expect(throws: PlanFileError(file: "p.json", message: "format: expected \"clusterctl-plan\", found \"x\"")) {
            try PlanDocument.decode(Array(#"{"format":"x","version":1,"osFamily":"el","summary":{"hosts":0,"changedHosts":0,"failedHosts":0,"packages":0,"files":0,"services":0,"firewallChains":0},"hosts":[]}"#.utf8), file: "p.json")
        }
        #expect {
            try PlanDocument.decode(Array(#"{"format":"clusterctl-plan","version":1}"#.utf8), file: "p.json")
        } throws: { error in
            String(describing: error) == "p.json: not a usable saved plan: .summary: missing"
        }
    }

    @Test func savedPlanValuesAreValidatedLikeInventoryInput() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        let good = String(decoding: try PlanDocument(try await fixture.plan()).encoded(), as: UTF8.self)
        let cases = [
            ("\"package\" : \"memcached\"", "\"package\" : \"memcached; reboot\"",
             "hosts[0].changes[1]: not a package or service name: memcached; reboot"),
            ("\"path\" : \"/etc/sysconfig/memcached\"", "\"path\" : \"/etc/../root/x\"",
             "hosts[0].changes[2].file.path: not an absolute path: /etc/../root/x"),
            ("\"os\" : \"el5\"", "\"os\" : \"plan9\"",
             "hosts[0].os: unknown OS family \"plan9\" (supported: el5, el6, el7, el8, el9, debian11, debian12, ubuntu22.04, ubuntu24.04)"),
        ]
        for (original, replacement, message) in cases {
            #expect(good.contains(original))
            let bad = good.replacingOccurrences(of: original, with: replacement)
            #expect(throws: PlanFileError(file: "p.json", message: message)) {
                try PlanDocument.decode(Array(bad.utf8), file: "p.json")
            }
        }
    }

    @Test func savedPlanRefusesHostsWhoseFactsChanged() async throws {
        let fixture = EngineFixture()
        await fixture.makeFresh()
        try await fixture.converge()
        var changed = EngineFixture(cacheSizeMB: 256)
        changed.transports = fixture.transports
        await changed.transport("web1").configure { $0.services["httpd"]?.running = false }
        let saved = try PlanDocument(try await changed.plan()).encoded()

        // Behind the plan's back: web1's php.ini is edited.
        await fixture.transport("web1").configure {
            $0.files["/etc/php.ini"]?.contents += Array("; edited by hand\n".utf8)
        }
        let plan = try PlanDocument.decode(saved, file: "plan.json").plan
        let recap = await changed.apply(plan, checkFingerprints: true)
        #expect(recap.failed)
        let web1 = try #require(recap.outcome(for: "web1"))
        #expect(web1.status == .failed)
        #expect(web1.message?.hasPrefix("stale plan: the host's facts changed since the plan was made") == true)
        #expect(await fixture.transport("web1").commandsMatching("service ") == ["service iptables save", "service httpd start"],
                "the stale host got no service start from the saved plan")
        #expect(recap.outcome(for: "mc1")?.status == .changed)
        #expect(await fixture.transport("mc1").files["/etc/sysconfig/memcached"]?.contents
                == Array(EngineFixture.sysconfig(MemcachedSettings(cacheSizeMB: 256)).utf8))
        #expect(recap.outcome(for: "web2")?.status == .ok)
    }
}
