"""draw_network placeholder."""


def draw_network(mlp):
    raise NotImplementedError
