# %% [markdown]
# # 05 · Training networks: batches, early stopping, dropout, batch norm, real data
#
# Concepts: L3, T3, T8, T9, T10, T12
#
# From the first feed-forward network of the notes (2 inputs, a `hid_layer`, an `out_layer`,
# truncated-normal weights, Adam; L3) through the vocabulary of training (batch, epoch,
# iteration; T3), overfitting and early stopping (T8), dropout (T9) and batch normalisation (T10),
# to the notes' complete binary-classification pipeline (T12), run here on scikit-learn's
# breast-cancer data, and a digits classifier drawn module by module with `viz.draw_model`.

# %%
# %matplotlib inline
import numpy as np
from sklearn import datasets
from sklearn.model_selection import train_test_split

import autograd as ag
import nn
import nn.functional as F
import viz
import viz.plots

ag.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## L3 · A 2-input, 1-output feed-forward network
#
# As in the notes' TensorFlow graph: the input goes through `hid_layer` (weights initialised with
# a truncated normal, a matrix product, a bias, an activation), then `out_layer` (the same
# computation with its own weights), the prediction is compared with the target in the loss, and
# Adam updates every weight and bias from its gradient. The task: learn
# $y = \sin(\pi x_1)\,x_2$ on $[-1, 1]^2$ from 1000 samples.

# %%
class FeedForward(nn.Module):
    """2 inputs -> ``hidden`` tanh units (hid_layer) -> 1 output (out_layer)."""

    def __init__(self, hidden: int = 32, std: float = 0.5):
        super().__init__()
        self.hid_layer = nn.Linear(2, hidden)
        self.out_layer = nn.Linear(hidden, 1)
        for layer in (self.hid_layer, self.out_layer):
            nn.init.trunc_normal_(layer.weight, std=std, a=-2 * std, b=2 * std)   # like tf.truncated_normal
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.out_layer(self.hid_layer(x).tanh())


X = rng.uniform(-1, 1, size=(1000, 2)).astype(np.float32)
Y = (np.sin(np.pi * X[:, :1]) * X[:, 1:]).astype(np.float32)
model = FeedForward()
w = model.hid_layer.weight.data
assert np.all(np.abs(w) <= 1.0) and 0.3 < w.std() < 0.5            # truncated at two standard deviations

# %% [markdown]
# ## T3 · Batch, epoch, iteration
#
# One **iteration** is one gradient step on one **batch**; one **epoch** is one pass over all the
# data. With 1000 samples and batches of 100, an epoch is 10 iterations, so 60 epochs are 600
# Adam steps. A callback counts them.

# %%
loader = nn.data.DataLoader(nn.data.TensorDataset(X, Y), batch_size=100, shuffle=True)
assert len(loader) == 10
iterations = []
counter = nn.LambdaCallback(on_batch_end=lambda batch, logs: iterations.append(batch))
history = nn.fit(model, nn.MSELoss(), nn.optim.Adam(model.parameters(), lr=0.01), loader, epochs=60,
                 callbacks=[counter], progress=False)
assert len(history) == 60 and len(iterations) == 600
assert iterations[:10] == list(range(10))                           # batch index restarts every epoch
final = F.mse_loss(model(ag.Tensor(X)), ag.Tensor(Y)).item()
print(f"MSE: {history['loss'][0]:.4f} after epoch 1, {final:.4f} after epoch 60 (variance of y: {Y.var():.4f})")
assert final < 0.05 * Y.var()

# %% [markdown]
# `viz.draw_model` draws the graph of one forward pass with one box per module: the two layers
# of the notes' figure.

# %%
drawing = viz.draw_model(model, ag.Tensor(X[:5]))
assert "hid_layer" in drawing.source and "out_layer" in drawing.source
drawing

# %% [markdown]
# ## T8 · Overfitting and early stopping
#
# A big network trained long enough on 20 noisy samples learns the noise: the training loss
# keeps falling while the loss on held-out data turns back up. `nn.EarlyStopping` watches
# `val_loss` and stops after `patience` epochs without an improvement larger than `min_delta`
# (so it runs exactly `patience` epochs past the best one); with `restore_best_weights=True` the
# model ends up with the weights of its best epoch.

# %%
def noisy_curve(n, seed):
    r = np.random.default_rng(seed)
    x = r.uniform(-1, 1, size=(n, 1)).astype(np.float32)
    return x, (np.sin(3 * x) + 0.3 * r.normal(size=(n, 1))).astype(np.float32)


x_train, y_train = noisy_curve(20, 1)
x_val, y_val = noisy_curve(200, 2)
train_loader = nn.data.DataLoader(nn.data.TensorDataset(x_train, y_train), batch_size=20)
val_data = (ag.Tensor(x_val), ag.Tensor(y_val))


def overfit_run(callbacks, epochs=500):
    ag.manual_seed(0)
    net = nn.MLP([1, 64, 64, 64, 1])
    history = nn.fit(net, nn.MSELoss(), nn.optim.Adam(net.parameters(), lr=0.01), train_loader, val_data,
                     epochs=epochs, callbacks=callbacks, progress=False)
    return net, history


_, full = overfit_run([])
best_epoch = int(np.argmin(full["val_loss"]))
assert full["loss"][-1] < full["loss"][best_epoch]                   # training loss kept falling...
assert full["val_loss"][-1] > 1.2 * full["val_loss"][best_epoch]     # ...while validation got worse

early = nn.EarlyStopping(monitor="val_loss", patience=20, min_delta=1e-4, restore_best_weights=True)
net, stopped = overfit_run([early])
print(f"without early stopping: 500 epochs, final val_loss {full['val_loss'][-1]:.4f}; "
      f"with: stopped after {len(stopped)} epochs, best val_loss {early.best:.4f} at epoch {early.best_epoch + 1}")
assert early.stopped_epoch is not None and len(stopped) < 500
assert len(stopped) == early.best_epoch + 1 + early.patience
assert np.isclose(F.mse_loss(net(val_data[0]), val_data[1]).item(), early.best, rtol=1e-5)   # best weights back
viz.plots.plot_history(full, logy=True)

# %% [markdown]
# ## T9 · Dropout
#
# During training, `nn.Dropout(p)` zeroes each activation with probability $p$ and scales the
# survivors by $1/(1 - p)$ ("inverted dropout"), so the expected activation is unchanged and no
# unit can rely on any particular other unit. In evaluation mode it does nothing.

# %%
dropout = nn.Dropout(0.3)
ones = ag.ones((200, 500))
dropped = dropout(ones).data
assert abs(np.mean(dropped == 0) - 0.3) < 0.01                      # about 30% zeroed
assert np.allclose(dropped[dropped != 0], 1 / 0.7)                   # survivors scaled by 1/(1-p)
assert abs(dropped.mean() - 1.0) < 0.02                              # the mean is preserved
dropout.eval()
assert np.array_equal(dropout(ones).data, ones.data)                 # identity at evaluation time

# %% [markdown]
# ## T10 · Batch normalisation with learned $\gamma$, $\beta$
#
# In training mode `nn.BatchNorm1d` standardises each feature over the batch,
# $\hat x = (x - \mu_B)/\sqrt{\sigma_B^2 + \epsilon}$, then applies a learned scale and shift,
# $\gamma \hat x + \beta$ (its `weight` and `bias`). It also keeps running averages of $\mu$ and
# $\sigma^2$ (momentum 0.1) that replace the batch statistics at evaluation time.

# %%
bn = nn.BatchNorm1d(3)
batch = ag.Tensor((rng.normal(size=(64, 3)) * [1.0, 5.0, 0.2] + [3.0, -2.0, 10.0]).astype(np.float32))
out = bn(batch).data
assert np.allclose(out.mean(axis=0), 0, atol=1e-5) and np.allclose(out.std(axis=0), 1, atol=1e-3)
assert np.allclose(bn.running_mean.data, 0.1 * batch.data.mean(axis=0), rtol=1e-5)
assert np.allclose(bn.running_var.data, 0.9 + 0.1 * batch.data.var(axis=0, ddof=1), rtol=1e-5)

nn.init.constant_(bn.weight, 2.0)          # gamma
nn.init.constant_(bn.bias, -1.0)           # beta
out = bn(batch)
assert np.allclose(out.data.mean(axis=0), -1.0, atol=1e-5) and np.allclose(out.data.std(axis=0), 2.0, atol=1e-3)
(out ** 2).mean().backward()
assert bn.weight.grad is not None and bn.bias.grad is not None       # gamma and beta are learned

bn.eval()
expected = (batch.data - bn.running_mean.data) / np.sqrt(bn.running_var.data + bn.eps) * 2.0 - 1.0
assert np.allclose(bn(batch).data, expected, atol=1e-5)

# %% [markdown]
# ## T12 · The notes' binary-classification pipeline, on breast-cancer data
#
# The notes (predicting hotel cancellations) preprocess numeric columns by standardising them
# and categorical ones by one-hot encoding, always with statistics of the training rows only.
# Here is that preprocessing on a tiny table, then the real run.

# %%
def standardise(train, *others):
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1.0
    return [((a - mean) / std).astype(np.float32) for a in (train, *others)]


def one_hot(column, categories):
    return (np.asarray(column)[:, None] == np.asarray(categories)[None, :]).astype(np.float32)


lead_time = np.array([[10.0], [200.0], [35.0], [90.0]])
hotel = ["city", "resort", "city", "resort"]
features = np.hstack([standardise(lead_time)[0], one_hot(hotel, ["city", "resort"])])
assert np.allclose(features[:, 0].mean(), 0, atol=1e-6) and np.allclose(features[:, 0].std(), 1, atol=1e-6)
assert features[:, 1:].tolist() == [[1, 0], [0, 1], [1, 0], [0, 1]]

# %% [markdown]
# The breast-cancer data (569 tumours, 30 numeric features, malignant or benign) split 60/20/20
# into training, validation and test rows, and the notes' network layer for layer:
# BatchNorm → Dense 256 ReLU → BatchNorm → Dropout 0.3 → Dense 256 ReLU → BatchNorm → Dropout 0.3
# → Dense 1 sigmoid, trained with Adam on binary cross-entropy, batch 512, up to 200 epochs with
# early stopping (patience 5, min_delta 0.001, best weights restored). The same pipeline is
# `python -m nn.examples.breast_cancer`.

# %%
features, labels = datasets.load_breast_cancer(return_X_y=True)
x_rest, x_test, y_rest, y_test = train_test_split(features, labels, test_size=0.2, stratify=labels, random_state=0)
x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=0)
x_train, x_val, x_test = standardise(x_train, x_val, x_test)
y_train, y_val, y_test = (v.astype(np.float32).reshape(-1, 1) for v in (y_train, y_val, y_test))

ag.manual_seed(0)
classifier = nn.Sequential(
    nn.BatchNorm1d(30),
    nn.Linear(30, 256), nn.ReLU(), nn.BatchNorm1d(256), nn.Dropout(0.3),
    nn.Linear(256, 256), nn.ReLU(), nn.BatchNorm1d(256), nn.Dropout(0.3),
    nn.Linear(256, 1), nn.Sigmoid(),
)
early = nn.EarlyStopping(monitor="val_loss", patience=5, min_delta=0.001, restore_best_weights=True)
history = nn.fit(classifier, nn.BCELoss(), nn.optim.Adam(classifier.parameters()),
                 nn.data.DataLoader(nn.data.TensorDataset(x_train, y_train), batch_size=512, shuffle=True),
                 nn.data.DataLoader(nn.data.TensorDataset(x_val, y_val), batch_size=512),
                 epochs=200, callbacks=[early], metrics=["binary_accuracy"], progress=False)
test = nn.evaluate(classifier, nn.BCELoss(), (ag.Tensor(x_test), ag.Tensor(y_test)), metrics=["binary_accuracy"])
print(f"{len(history)} epochs (best at {early.best_epoch + 1}); test accuracy {test['binary_accuracy']:.3f}")
assert len(x_train) == 341 and len(x_val) == 114 and len(x_test) == 114
assert len(history) < 200 and early.stopped_epoch is not None
assert test["binary_accuracy"] >= 0.93
classifier.eval()
assert np.isclose(np.mean((classifier(ag.Tensor(x_test)).data > 0.5) == y_test), test["binary_accuracy"])

# %% [markdown]
# The loss / val_loss and accuracy curves, straight from the training history:

# %%
history.plot()

# %% [markdown]
# ## A digits classifier, drawn module by module
#
# scikit-learn's 8×8 handwritten digits (1797 images, 10 classes): an `nn.MLP([64, 128, 10])`
# trained for 15 epochs with cross-entropy. `viz.draw_model` shows its op graph in one cluster
# per module (`python -m nn.examples.digits` is the longer version of this run).

# %%
images, digits = datasets.load_digits(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(images, digits, test_size=0.2, stratify=digits, random_state=0)
x_train, x_test = standardise(x_train, x_test)
ag.manual_seed(0)
mlp = nn.MLP([64, 128, 10])
history = nn.fit(mlp, nn.CrossEntropyLoss(), nn.optim.Adam(mlp.parameters(), lr=1e-3),
                 nn.data.DataLoader(nn.data.TensorDataset(x_train, y_train), batch_size=32, shuffle=True),
                 (ag.Tensor(x_test), ag.Tensor(y_test)), epochs=15, metrics=["accuracy"], progress=False)
print(f"test accuracy after 15 epochs: {history['val_accuracy'][-1]:.3f}")
assert history["val_accuracy"][-1] >= 0.95
mlp.eval()
assert np.isclose(np.mean(mlp(ag.Tensor(x_test)).data.argmax(axis=1) == y_test), history["val_accuracy"][-1])
model_drawing = viz.draw_model(mlp, ag.Tensor(x_test[:8]))
assert "<svg" in viz.to_svg(model_drawing)
model_drawing
