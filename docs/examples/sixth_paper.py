"""A sixth paper as a plugin file: one slot of two convolutions (its space, layout and
sampler), its search and its frame protocol. Run from the repository root (docs/plugins.md,
"A paper of your own"):

    latbench --plugin docs/examples/sixth_paper.py search --help   # lists `sixth`

(profile, search and validate: docs/plugins.md). Order matters: a space is registered before
its layout and sampler. A search is ``run(args, models, progress) -> SearchReport``;
``ChoiceLayout.names(i)`` and ``.candidates(i)`` are slot ``i``'s op names and OpSpecs.
"""

from latbench.plugins import (
    ChoiceLayout,
    OpSpec,
    register_layout,
    register_protocol,
    register_sampler,
    register_search,
    register_space,
)

X = (1, 4, 8, 8)


@register_space("sixth", paper="a sixth paper (test)")
def ops(size):
    return layout(size).ops()


@register_layout("sixth")
def layout(size):
    return ChoiceLayout.of(
        [{"k1": OpSpec.make("conv", X, kernel=1), "k5": OpSpec.make("conv", X, kernel=5)}]
    )


@register_sampler("sixth")
def sample(size, rng):
    return layout(size).sample("sixth", rng)


def search(args, models, progress):
    from latbench.nas.searches import SearchReport

    names, specs = layout(args.size).names(0), layout(args.size).candidates(0)
    costs = [float(c) for c in models[0].costs(specs)]
    report = SearchReport()
    report.table("sixth: candidates", ["op", "predicted ms"], list(zip(names, costs)))
    report.line(f"sixth chose {min(zip(costs, names))[1]}")
    return report


def per_frame(arch, options):
    import torch

    from latbench.archs import ArchitectureModule
    from latbench.deploy.protocols import FrameTiming, ProtocolResult, sampler_for
    from latbench.timing import Measurement

    net, x = ArchitectureModule(arch).eval(), torch.randn(arch.input_shape)
    with torch.inference_mode():
        samples = sampler_for(options.device).sample(lambda: net(x), 1, options.n_frames)
    timing = FrameTiming("sixth-fps", Measurement(tuple(samples), 1, "cpu"), options.n_frames)
    return ProtocolResult("sixth-fps", arch.name, options.device, timing, ["sixth: no encoder"])


register_search("sixth", search, spaces=("sixth",), help="the sixth paper's search")
register_protocol("sixth-fps", run=per_frame, space="sixth", help="the sixth paper's FPS")
