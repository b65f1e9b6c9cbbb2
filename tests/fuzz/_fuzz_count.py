"""The number of distinct enumerated fuzz cases, per part (printed at the end of a run that includes the fuzz)."""


def case_counts() -> dict[str, int]:
    import test_fuzz_nn
    import test_fuzz_ops

    return {**test_fuzz_ops.case_counts(), **test_fuzz_nn.case_counts()}
