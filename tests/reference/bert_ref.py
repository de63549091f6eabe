"""Pure-PyTorch BERT encoder, mathematically identical to Hugging Face
`transformers.BertModel` (post-LayerNorm, absolute position embeddings).

Parameter names (model.state_dict() keys) are exactly HF BertModel's:

    embeddings.word_embeddings.weight          [vocab, H]
    embeddings.position_embeddings.weight      [max_pos, H]
    embeddings.token_type_embeddings.weight    [type_vocab, H]
    embeddings.LayerNorm.{weight,bias}         [H]
    encoder.layer.{i}.attention.self.{query,key,value}.{weight [H,H], bias [H]}
    encoder.layer.{i}.attention.output.dense.{weight [H,H], bias [H]}
    encoder.layer.{i}.attention.output.LayerNorm.{weight,bias}  [H]
    encoder.layer.{i}.intermediate.dense.{weight [I,H], bias [I]}
    encoder.layer.{i}.output.dense.{weight [H,I], bias [H]}
    encoder.layer.{i}.output.LayerNorm.{weight,bias}            [H]
    pooler.dense.{weight [H,H], bias [H]}

Linear weights are [out, in] (y = x W^T + b), as torch.nn.Linear.
Unlike HF there are no registered buffers (position_ids / token_type_ids), so
state_dict() holds parameters only.

`load_hf_folder(dir)` reads a Hugging Face style folder (config.json +
model.safetensors, or a sharded model.safetensors.index.json, or
pytorch_model.bin), accepting tensor names with or without the `bert.`
prefix and legacy LayerNorm `gamma`/`beta` names, ignoring everything else
(heads, position_ids, ...).
"""

import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import safetensors_io


class BertConfig:
    DEFAULTS = {
        "vocab_size": 30522,
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
    }

    def __init__(self, **kw):
        d = dict(self.DEFAULTS)
        d.update(kw)
        self.__dict__.update(d)
        self._raw = d
        if self.hidden_size % self.num_attention_heads:
            raise ValueError("hidden_size %d not divisible by num_attention_heads %d"
                             % (self.hidden_size, self.num_attention_heads))
        if self.position_embedding_type != "absolute":
            raise ValueError("only absolute position embeddings are supported")

    @classmethod
    def from_json_file(cls, path):
        with open(path) as f:
            return cls(**json.load(f))

    def to_dict(self):
        return dict(self._raw)


def activation(name):
    if name == "gelu":  # exact erf form, as HF "gelu"
        return lambda x: F.gelu(x)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: F.gelu(x, approximate="tanh")
    if name == "relu":
        return F.relu
    raise ValueError("unsupported hidden_act %r" % name)


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size,
                                            padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids):
        T = input_ids.shape[1]
        pos = torch.arange(T, device=input_ids.device).unsqueeze(0)
        # same summation order as HF: (word + token_type) + position
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.num_heads = c.num_attention_heads
        self.head_dim = c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.attention_probs_dropout_prob)

    def _split(self, x):  # [B,T,H] -> [B,nh,T,hd]
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, ext_mask):
        q = self._split(self.query(x))
        k = self._split(self.key(x))
        v = self._split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores + ext_mask
        probs = self.dropout(torch.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        B, T = ctx.shape[:2]
        return ctx.view(B, T, -1)


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, h, residual):
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, x, ext_mask):
        return self.output(self.self(x, ext_mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)
        self.act = activation(c.hidden_act)

    def forward(self, x):
        return self.act(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.intermediate_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, h, residual):
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, x, ext_mask):
        a = self.attention(x, ext_mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c.num_hidden_layers)])

    def forward(self, x, ext_mask):
        for lyr in self.layer:
            x = lyr(x, ext_mask)
        return x


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, hidden):
        return torch.tanh(self.dense(hidden[:, 0]))


class BertModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None):
        """Returns (last_hidden_state [B,T,H], pooler_output [B,H])."""
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        dtype = self.embeddings.word_embeddings.weight.dtype
        # HF: (1 - mask) * finfo.min, broadcast over heads and queries.
        ext = (1.0 - attention_mask[:, None, None, :].to(dtype)) \
            * torch.finfo(torch.float32).min
        x = self.embeddings(input_ids, token_type_ids)
        hidden = self.encoder(x, ext)
        return hidden, self.pooler(hidden)


def pool(hidden, pooled, attention_mask, kind):
    """Sentence embedding: 'cls' = hidden[:,0], 'pooler' = pooler output,
    'mean' = mean of hidden over positions with attention_mask == 1."""
    if kind == "cls":
        return hidden[:, 0]
    if kind == "pooler":
        return pooled
    if kind == "mean":
        m = attention_mask.to(hidden.dtype).unsqueeze(-1)
        return (hidden * m).sum(1) / m.sum(1)
    raise ValueError("unknown pooling %r" % kind)


# ---------------------------------------------------------------- loading


def canonical_name(name):
    """Map a checkpoint tensor name to BertModel's parameter name, or None
    when it cannot be a BertModel parameter name."""
    if name.startswith("bert."):
        name = name[len("bert."):]
    if ".LayerNorm." in name or name.startswith("LayerNorm."):
        if name.endswith(".gamma"):
            name = name[:-len(".gamma")] + ".weight"
        elif name.endswith(".beta"):
            name = name[:-len(".beta")] + ".bias"
    return name


def read_checkpoint_tensors(folder):
    """All tensors of a HF folder's weights as a dict (stored dtypes)."""
    st = os.path.join(folder, "model.safetensors")
    idx = os.path.join(folder, "model.safetensors.index.json")
    binf = os.path.join(folder, "pytorch_model.bin")
    if os.path.exists(st):
        return safetensors_io.load_file(st)
    if os.path.exists(idx):
        with open(idx) as f:
            wm = json.load(f)["weight_map"]
        out = {}
        for shard in sorted(set(wm.values())):
            out.update(safetensors_io.load_file(os.path.join(folder, shard)))
        return out
    if os.path.exists(binf):
        return torch.load(binf, map_location="cpu")
    raise FileNotFoundError("no model.safetensors / index / pytorch_model.bin in %s" % folder)


def load_state(model, tensors, dtype=None):
    """Copy checkpoint `tensors` (any naming accepted by canonical_name) into
    `model`.  Returns the list of checkpoint names that were ignored.
    Raises on missing parameters, duplicates or shape mismatches."""
    params = dict(model.named_parameters())
    dtype = dtype or next(model.parameters()).dtype
    seen = {}
    ignored = []
    for name, t in tensors.items():
        c = canonical_name(name)
        if c not in params:
            ignored.append(name)
            continue
        if c in seen:
            raise ValueError("both %r and %r map to %r" % (seen[c], name, c))
        if tuple(t.shape) != tuple(params[c].shape):
            raise ValueError("%s: shape %s, model expects %s"
                             % (name, tuple(t.shape), tuple(params[c].shape)))
        seen[c] = name
        with torch.no_grad():
            params[c].copy_(t.to(torch.float32).to(dtype))
    missing = sorted(set(params) - set(seen))
    if missing:
        raise ValueError("checkpoint lacks parameters: %s" % ", ".join(missing))
    return ignored


def load_hf_folder(folder, dtype=torch.float32):
    """Build a BertModel from `folder` (config.json + weights).
    Returns (model in eval mode, config, ignored tensor names)."""
    config = BertConfig.from_json_file(os.path.join(folder, "config.json"))
    model = BertModel(config).to(dtype)
    ignored = load_state(model, read_checkpoint_tensors(folder), dtype)
    model.eval()
    return model, config, ignored


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        words = [line.rstrip("\n") for line in f]
    return {w: i for i, w in enumerate(words)}
