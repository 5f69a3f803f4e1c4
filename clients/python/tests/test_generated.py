"""Committed generated files are current: the protobuf module (scripts/gen_proto.sh) and the golden chunk
fixtures (scripts/write_golden_chunks.py)."""

import importlib.util
import subprocess
import unittest

import support


class GeneratedFilesTest(unittest.TestCase):
    def test_proto_module_matches_the_proto(self) -> None:
        done = subprocess.run(["bash", str(support.CLIENT_ROOT / "scripts" / "gen_proto.sh"), "--check"],
                              capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_stub_has_every_rpc_of_the_service(self) -> None:
        import grpc

        from ntk_sidecar._proto import NtkSidecarStub, pb
        stub = NtkSidecarStub(grpc.insecure_channel("127.0.0.1:1"))
        names = [m.name for m in pb.DESCRIPTOR.services_by_name["NtkSidecar"].methods]
        self.assertEqual(names, ["Attach", "CheckStop", "GetRun", "ListRuns", "EndRun"])
        for name in names:
            self.assertTrue(callable(getattr(stub, name)), name)

    def test_golden_fixtures_are_current(self) -> None:
        path = support.CLIENT_ROOT / "scripts" / "write_golden_chunks.py"
        spec = importlib.util.spec_from_file_location("write_golden_chunks", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        fixtures = support.REPO / "test" / "fixtures" / "python-chunks"
        built = module.build()
        self.assertEqual(sorted(p.name for p in fixtures.iterdir()), sorted(built))
        for name, data in built.items():
            self.assertEqual((fixtures / name).read_bytes(), data,
                             f"{name} is stale: run clients/python/scripts/write_golden_chunks.py")


if __name__ == "__main__":
    unittest.main()
