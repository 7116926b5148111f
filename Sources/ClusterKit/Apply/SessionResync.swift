/// How `apply --serial` restarts memcached without losing sessions when each has a second copy.
///
/// A restarted memcached is empty, and neither extension then reads a session's other copy: the empty server
/// answers "not found" and the session reads as empty (measured with memcache 8.0 and memcached 3.2; README,
/// Session redundancy). So the host is cut off from the web hosts first (the `verify --failover` rules and
/// guard: while it is away the extensions fail over to the other copy), memcached restarts, every item of the
/// other memcache hosts is copied into it (`add`: nothing newer is overwritten), and only then do the web hosts
/// see it again. Items are listed with `lru_crawler metadump all` (memcached 1.4.31 and later) and copied
/// through clusterctl: the memcache hosts' firewalls do not let them reach each other's memcached. Perl does the
/// socket work on the hosts (in every EL base install and Debian's perl-base). A session written in the second
/// between the copy and the rules' removal exists only on the other server.
struct SessionResync: Sendable {
    let session: PlanSession

    /// Cuts `host` off from the web hosts (not from itself: its own web server, if any, keeps using it).
    func cutOff(_ host: Host, transport: any HostTransport) async -> String? {
        let sources = session.webSources.filter { $0 != host.privateAddress }
        guard !sources.isEmpty else { return nil }
        let script = FailoverCheck.cutOffScript(sources: sources, port: session.memcachedPort,
                                                guardSeconds: FailoverCheck.guardSeconds)
        guard let out = try? await transport.run("/bin/sh -s", stdin: Array(script.utf8)).stdoutText, out.contains("CUT") else {
            return "cannot cut \(host.name) off from the web hosts before restarting its memcached"
        }
        return nil
    }

    func restore(_ host: Host, transport: any HostTransport) async {
        let script = FailoverCheck.restoreScript(sources: session.webSources.filter { $0 != host.privateAddress },
                                                 port: session.memcachedPort)
        _ = try? await transport.run("/bin/sh -s", stdin: Array(script.utf8))
    }

    /// Copies every item of each peer into `host`'s memcached; nil when done, else why not.
    func copy(into host: Host, transport: any HostTransport, from peers: [(Host, any HostTransport)]) async -> String? {
        guard !peers.isEmpty else { return "no other memcache host in this apply to copy the sessions from" }
        let port = session.memcachedPort
        for (peer, peerTransport) in peers {
            let dump = "perl -e \(ShellQuote.quote(Self.dumpScript)) \(ShellQuote.quote(peer.privateAddress)) \(port)"
            guard let items = try? await peerTransport.run(dump).stdout else { return "cannot list \(peer.name)'s items" }
            if let failure = Self.failure(in: items) { return "cannot list \(peer.name)'s items: \(failure)" }
            let load = "perl -e \(ShellQuote.quote(Self.loadScript)) \(ShellQuote.quote(host.privateAddress)) \(port)"
            guard let out = try? await transport.run(load, stdin: items).stdoutText,
                  ProbeOutput.field("COPIED", in: out) != nil else {
                return "cannot copy \(peer.name)'s items into \(host.name)"
            }
        }
        return nil
    }

    /// `FAIL reason` on the dump's first line.
    static func failure(in output: [UInt8]) -> String? {
        let first = String(decoding: output.prefix { $0 != 10 }, as: UTF8.self)
        return first.hasPrefix("FAIL") ? String(first.dropFirst(5)) : nil
    }

    /// Prints `ITEM key flags exptime length` and the value for every live item, then `DONE`.
    static let dumpScript = #"""
        use strict; use IO::Socket::INET;
        my $s = IO::Socket::INET->new(PeerAddr=>$ARGV[0], PeerPort=>$ARGV[1], Proto=>"tcp", Timeout=>5)
          or do { print "FAIL connect: $@\n"; exit 1 };
        binmode $s; binmode STDOUT;
        print $s "lru_crawler metadump all\r\n";
        my @keys;
        while (my $l = <$s>) {
          $l =~ s/\r?\n$//; last if $l eq "END";
          if ($l !~ /^key=/) { print "FAIL lru_crawler metadump: $l (memcached older than 1.4.31?)\n"; exit 1 }
          push @keys, [$1, $2] if $l =~ /^key=(\S+) exp=(-?\d+)/;
        }
        my $now = time;
        for my $k (@keys) {
          my ($key, $exp) = @$k; $key =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
          next if $exp > 0 && $exp <= $now + 1;
          print $s "get $key\r\n";
          my $h = <$s>;
          next unless defined $h && $h =~ /^VALUE \S+ (\d+) (\d+)/;
          my ($flags, $len) = ($1, $2); my $data = ''; my $got = 0;
          while ($got < $len + 2) { my $n = read($s, $data, $len + 2 - $got, $got); last unless $n; $got += $n; }
          my $end = <$s>;
          print "ITEM $key $flags ", ($exp < 0 ? 0 : $exp), " $len\n", substr($data, 0, $len), "\n";
        }
        print "DONE\n";
        """#

    /// Reads the dump on stdin and `add`s each item; prints `COPIED added kept`.
    static let loadScript = #"""
        use strict; use IO::Socket::INET;
        my $s = IO::Socket::INET->new(PeerAddr=>$ARGV[0], PeerPort=>$ARGV[1], Proto=>"tcp", Timeout=>5)
          or do { print "FAIL connect: $@\n"; exit 1 };
        binmode $s; binmode STDIN;
        my ($added, $kept) = (0, 0);
        while (my $h = <STDIN>) {
          next unless $h =~ /^ITEM (\S+) (\d+) (\d+) (\d+)\n$/;
          my ($key, $flags, $exp, $len) = ($1, $2, $3, $4); my $data = '';
          read(STDIN, $data, $len + 1);
          print $s "add $key $flags $exp $len\r\n", substr($data, 0, $len), "\r\n";
          my $r = <$s>; if (defined $r && $r =~ /^STORED/) { $added++ } else { $kept++ }
        }
        print "COPIED $added $kept\n";
        """#
}
