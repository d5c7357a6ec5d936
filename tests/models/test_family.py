"""The shared pipeline factory and search space of the model families, and the pinned spaces."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from sklearn.linear_model import LogisticRegression

from clinai.models import get_model_names, get_search_space
from clinai.models._family import FloatRange, IntRange, PipelineFactory, SearchSpace
from clinai.models._sequence import make_sequence_preprocessor


def _trial(seed: int = 0) -> optuna.Trial:
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed)).ask()


def test_factory_builds_the_estimator_sets_params_and_preprocesses() -> None:
    seen = {}

    def estimator(*, random_state: int, n_jobs: int) -> LogisticRegression:
        seen.update(random_state=random_state, n_jobs=n_jobs)
        return LogisticRegression()

    pipe = PipelineFactory(estimator)(
        numeric=["age"], categorical=["sex"], random_state=7, n_jobs=2, C=0.25
    )
    assert seen == {"random_state": 7, "n_jobs": 2}
    assert [name for name, _ in pipe.steps] == ["preprocess", "model"]
    assert pipe.named_steps["model"].C == 0.25
    assert [t[0] for t in pipe.named_steps["preprocess"].transformers] == ["num", "cat"]

    defaults = PipelineFactory(estimator)(numeric=["age"], categorical=[])
    assert seen == {"random_state": 0, "n_jobs": 1}
    assert defaults.named_steps["model"].C == 1.0


def test_factory_uses_the_given_preprocessor_and_rejects_unknown_params() -> None:
    factory = PipelineFactory(lambda **_: LogisticRegression(), make_sequence_preprocessor)
    pipe = factory(numeric=["hr__h0"], categorical=[])
    assert type(pipe.named_steps["preprocess"].transformers[0][1].steps[0][1]).__name__ == (
        "SequenceImputer"
    )
    with pytest.raises(ValueError, match="not_a_param"):
        factory(numeric=["hr__h0"], categorical=[], not_a_param=1)


def test_search_space_draws_in_order_and_maps_to_params() -> None:
    space = SearchSpace(
        {"width": IntRange(2, 4), "depth": IntRange(1, 2), "lr": FloatRange(0.1, 1.0, log=True)},
        to_params=lambda d: {"layers": [d.pop("width")] * d.pop("depth"), **d},
    )
    trial = _trial()
    params = space(trial)
    assert list(trial.params) == ["width", "depth", "lr"]
    assert list(params) == ["layers", "lr"]
    assert params["layers"] == [trial.params["width"]] * trial.params["depth"]
    assert space(_trial()) == params  # same sampler seed, same draws


def test_ranges_are_optunas_distributions() -> None:
    trial = _trial()
    SearchSpace(
        {"a": IntRange(10, 60, step=10), "b": IntRange(4, 64, log=True), "c": FloatRange(0, 0.5)}
    )(trial)
    assert trial.distributions == {
        "a": IntDistribution(10, 60, step=10),
        "b": IntDistribution(4, 64, log=True),
        "c": FloatDistribution(0.0, 0.5),
    }


#: The Optuna parameters of each registered search space, in drawing order (a seeded
#: sampler repeats a study only in the same order). The ranges were checked unchanged
#: when the spaces became tables (issue 14).
DRAW_ORDER = {
    "gru": ["hidden_size", "dropout", "lr", "weight_decay", "max_epochs"],
    "lightgbm": [
        "num_leaves",
        "learning_rate",
        "n_estimators",
        "min_child_samples",
        "reg_lambda",
        "subsample",
        "colsample_bytree",
    ],
    "logistic": ["C"],
    "mlp": ["width", "depth", "dropout", "lr", "weight_decay", "max_epochs"],
}


@pytest.mark.parametrize("name", get_model_names())
def test_registered_search_spaces_draw_in_their_order(name: str) -> None:
    trial = _trial()
    params = get_search_space(name)(trial)
    assert list(trial.params) == DRAW_ORDER[name]
    if name == "mlp":
        assert list(params) == ["hidden_layer_sizes", "dropout", "lr", "weight_decay", "max_epochs"]
        assert params["hidden_layer_sizes"] == [trial.params["width"]] * trial.params["depth"]
    else:
        assert params == trial.params
