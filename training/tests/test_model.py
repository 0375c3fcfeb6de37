import unittest

import _path  # noqa: F401
import torch

from emotionbatch_training.config import ModelConfig, resolve
from emotionbatch_training.model import EmotionModel, FusionHead, utterance_cmn
from emotionbatch_training.speech_embedding import SpeechEmbedding

torch.set_num_threads(1)


def inputs(b=3, t=7, l=5, da=128):
    torch.manual_seed(1)
    return torch.randn(b, t, da), torch.ones(b, t), torch.randn(b, l, 384), torch.ones(b, l)


class FusionHeadTest(unittest.TestCase):
    def heads(self):
        for fusion in ("bridge", "concat", "mean"):
            for sa in (True, False):
                yield f"{fusion}/sa={sa}", FusionHead(ModelConfig(fusion=fusion, self_attention=sa)).eval()

    def test_output_shapes(self):
        for name, head in self.heads():
            with self.subTest(name):
                logits, valence, arousal = head(*inputs())
                self.assertEqual(logits.shape, (3, 4))
                self.assertEqual(valence.shape, (3,))
                self.assertEqual(arousal.shape, (3,))

    def test_all_zero_masks_are_finite(self):
        for name, head in self.heads():
            a, am, t, tm = inputs()
            for label, (am_, tm_) in {"no audio": (am * 0, tm), "no text": (am, tm * 0),
                                      "neither": (am * 0, tm * 0)}.items():
                with self.subTest(name=name, case=label), torch.no_grad():
                    for out in head(a, am_, t, tm_):
                        self.assertTrue(bool(torch.isfinite(out).all()))

    def test_masked_inputs_are_ignored(self):
        # A masked modality gives the same outputs whatever its features hold (zeros by convention).
        for name, head in self.heads():
            a, am, t, tm = inputs()
            with self.subTest(name), torch.no_grad():
                ref = head(a, am, torch.zeros(3, 1, 384), torch.zeros(3, 1))
                other = head(a, am, t * 100, tm * 0)
                for x, y in zip(ref, other):
                    self.assertTrue(torch.allclose(x, y, atol=1e-5))

    def test_padding_invariance(self):
        for name, head in self.heads():
            a, am, t, tm = inputs(b=1)
            a_pad = torch.cat([a, torch.randn(1, 4, a.size(2))], dim=1)
            am_pad = torch.cat([am, torch.zeros(1, 4)], dim=1)
            t_pad = torch.cat([t, torch.randn(1, 3, 384)], dim=1)
            tm_pad = torch.cat([tm, torch.zeros(1, 3)], dim=1)
            with self.subTest(name), torch.no_grad():
                for x, y in zip(head(a, am, t, tm), head(a_pad, am_pad, t_pad, tm_pad)):
                    self.assertTrue(torch.allclose(x, y, atol=1e-5))

    def test_valence_arousal_on_bundle_scale(self):
        head = FusionHead(ModelConfig()).eval()
        a, am, t, tm = inputs()
        with torch.no_grad():
            _, v, ar = head(a * 50, am, t * 50, tm)
        self.assertTrue(bool(((v >= -1) & (v <= 1) & (ar >= -1) & (ar <= 1)).all()))


class EmotionModelTest(unittest.TestCase):
    def test_end_to_end(self):
        model = EmotionModel(ModelConfig()).eval()
        with torch.no_grad():
            logits, v, a = model(torch.randn(2, 8000) * 0.1, torch.tensor([8000, 4000]),
                                 torch.randn(2, 4, 384), torch.tensor([[1.0] * 4, [0.0] * 4]))
        self.assertEqual(logits.shape, (2, 4))
        self.assertTrue(bool(torch.isfinite(logits).all()))

    def test_frame_cmn_is_padding_invariant_and_removes_a_fixed_colouring(self):
        model = EmotionModel(ModelConfig(frame_cmn=True)).eval()
        wave = torch.randn(1, 8000) * 0.1
        with torch.no_grad():
            alone, mask = model.acoustic(wave, torch.tensor([8000]))
            padded, pmask = model.acoustic(torch.cat([wave, torch.zeros(1, 3000)], 1), torch.tensor([8000]))
        self.assertTrue(torch.allclose(alone, padded[:, : alone.size(1)], atol=1e-4))
        self.assertEqual(float(pmask[:, alone.size(1):].sum()), 0.0)
        # A constant offset on the log-mel and MFCC channels (a fixed channel gain per band) vanishes.
        frames = torch.randn(2, 9, 90)
        mask = torch.ones(2, 9)
        mask[1, 6:] = 0
        shifted = frames.clone()
        shifted[..., :84] += torch.randn(1, 1, 84)
        a, b = utterance_cmn(frames, mask, 84), utterance_cmn(shifted, mask, 84)
        self.assertTrue(torch.allclose(a * mask.unsqueeze(-1), b * mask.unsqueeze(-1), atol=1e-5))
        self.assertTrue(torch.equal(utterance_cmn(frames, mask, 0), frames))

    @unittest.skipUnless((resolve(ModelConfig().speech_embedding_dir) / "embedding_model.onnx").exists(),
                         "shared speech_embedding model not present")
    def test_pretrained_encoder_frames_become_the_frame_tokens(self):
        cfg = ModelConfig(frames="speech_embedding")
        model = EmotionModel(cfg).eval()
        self.assertFalse(hasattr(model.acoustic, "conv1"))  # no log-mel conv front end to train
        frames, embeddings = torch.randn(2, 50, model.acoustic.frontend.dim), torch.randn(2, 6, 96)
        e_mask = torch.ones(2, 6)
        e_mask[1, 4:] = 0
        with torch.no_grad():
            a, mask = model.acoustic.encode_frames(frames, torch.ones(2, 50), embeddings, e_mask)
            # One token per encoder frame after the functionals tokens; padding stays out of the result.
            self.assertEqual(tuple(a.shape[:2]), (2, cfg.stats_tokens + 6))
            self.assertTrue(torch.equal(mask[:, cfg.stats_tokens:], e_mask))
            changed = embeddings.clone()
            changed[1, 4:] = 100.0
            b, _ = model.acoustic.encode_frames(frames, torch.ones(2, 50), changed, e_mask)
            self.assertTrue(torch.allclose(a[1, : cfg.stats_tokens + 4], b[1, : cfg.stats_tokens + 4], atol=1e-5))
            with self.assertRaises(ValueError):
                model.acoustic.encode_frames(frames, torch.ones(2, 50))
            # From a waveform, as the exported graph runs: the same as from the cached frames of that clip.
            wave = torch.randn(1, 24000) * 0.1
            log_mel, log_mel_mask = model.acoustic.frontend(wave, torch.tensor([24000]))
            cached = torch.from_numpy(SpeechEmbedding(resolve(cfg.speech_embedding_dir))(wave[0].numpy())).unsqueeze(0)
            direct, direct_mask = model.acoustic(wave, torch.tensor([24000]))
            via_cache, _ = model.acoustic.encode_frames(log_mel, log_mel_mask, cached, torch.ones(1, cached.size(1)))
            n = via_cache.size(1)  # the graph's batch may run longer; what lies past the clip is masked
            self.assertTrue(torch.allclose(direct[:, :n], via_cache, atol=1e-4))
            self.assertEqual(float(direct_mask[:, n:].sum()), 0.0)

    @unittest.skipUnless((resolve(ModelConfig().speech_embedding_dir) / "embedding_model.onnx").exists(),
                         "shared speech_embedding model not present")
    def test_finetuned_encoder_trains_from_cached_trunk_rows_as_the_waveform_graph_runs(self):
        from emotionbatch_training.config import TrainConfig
        from emotionbatch_training.train import parameter_groups

        with self.assertRaises(ValueError):
            EmotionModel(ModelConfig(embedding_finetune=True))  # needs the pretrained encoder's frames
        cfg = ModelConfig(frames="speech_embedding", embedding_finetune=True)
        model = EmotionModel(cfg).eval()
        wave = torch.randn(1, 24000) * 0.1
        rows = torch.from_numpy(SpeechEmbedding(resolve(cfg.speech_embedding_dir)).trunk_activations(wave[0].numpy()))[None]
        log_mel, log_mel_mask = model.acoustic.frontend(wave, torch.tensor([24000]))
        with torch.no_grad():
            direct, _ = model.acoustic(wave, torch.tensor([24000]))
            via_cache, _ = model.acoustic.encode_frames(log_mel, log_mel_mask, rows, torch.ones(1, rows.size(1)))
        n = via_cache.size(1)
        self.assertTrue(torch.allclose(direct[:, :n], via_cache, atol=1e-4))
        # Training moves the last convolutions (and nothing else of the encoder), at their own rate, without decay.
        model.train()
        a, mask = model.acoustic.encode_frames(log_mel, log_mel_mask, rows, torch.ones(1, rows.size(1)))
        a.pow(2).sum().backward()
        tuned = [p for p in model.acoustic.embedding_frontend.parameters()]
        self.assertEqual(len(tuned), 5)
        self.assertTrue(all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in tuned))
        groups = parameter_groups(model, TrainConfig(lr=1e-3, finetune_lr_scale=0.1))
        self.assertEqual(len(groups), 2)
        self.assertEqual({id(p) for p in groups[1]["params"]}, {id(p) for p in tuned})
        self.assertEqual((groups[1]["lr"], groups[1]["weight_decay"]), (1e-4, 0.0))
        self.assertEqual(len(parameter_groups(EmotionModel(ModelConfig(frames="speech_embedding")), TrainConfig())), 1)

    @unittest.skipUnless((resolve(ModelConfig().speech_embedding_dir) / "embedding_model.onnx").exists(),
                         "shared speech_embedding model not present")
    def test_embedding_statistics_reach_the_functionals_tokens(self):
        with self.assertRaises(ValueError):
            EmotionModel(ModelConfig(frames="logmel", embedding_stats=True))
        cfg = ModelConfig(frames="speech_embedding", embedding_stats=True)
        model = EmotionModel(cfg).eval()
        encoder = model.acoustic
        self.assertEqual(encoder.stats_in[1].in_features, encoder.functionals.dim + 4 * 96)
        # Fitted on the training clips' frames like the other normalisers: the statistics of standardised frames.
        train_frames = [torch.randn(80, encoder.frontend.dim) for _ in range(6)]
        train_embeddings = [torch.randn(10, 96) * 3 + 1 for _ in range(6)]
        encoder.fit_normalisation(train_frames, train_embeddings)
        self.assertGreater(float(encoder.embedding_stats_std.min()), 0.0)
        self.assertTrue(bool((encoder.embedding_stats_mean != 0).any()))
        frames, e_mask = torch.randn(1, 50, encoder.frontend.dim), torch.ones(1, 6)
        embeddings = torch.randn(1, 6, 96)
        seen = []
        encoder.stats_in.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].clone()))
        k = encoder.functionals.dim
        with torch.no_grad():
            encoder.encode_frames(frames, torch.ones(1, 50), embeddings, e_mask)
            # The same mean per channel with three times the spread: a change only the statistics show.
            mean = embeddings.mean(1, keepdim=True)
            encoder.encode_frames(frames, torch.ones(1, 50), mean + (embeddings - mean) * 3, e_mask)
            # Padded frames stay out of the statistics.
            padded = torch.cat([embeddings, torch.full((1, 3, 96), 50.0)], 1)
            encoder.encode_frames(frames, torch.ones(1, 50), padded, torch.cat([e_mask, torch.zeros(1, 3)], 1))
        plain, spread, with_padding = seen
        self.assertEqual(plain.size(1), k + 4 * 96)
        self.assertTrue(torch.equal(plain[:, :k], spread[:, :k]))  # the functionals of the log-mel frames
        self.assertFalse(torch.allclose(plain[:, k + 96: k + 192], spread[:, k + 96: k + 192]))  # the std block
        self.assertTrue(torch.allclose(plain, with_padding, atol=1e-5))
        # What fit_normalisation fitted is what encode_frames computes: over the fitted clips the block is standardised.
        seen.clear()
        with torch.no_grad():
            for f, e in zip(train_frames, train_embeddings):
                encoder.encode_frames(f.unsqueeze(0), torch.ones(1, f.size(0)), e.unsqueeze(0), torch.ones(1, e.size(0)))
        block = torch.cat(seen)[:, k:]
        self.assertTrue(torch.allclose(block.mean(0), torch.zeros(4 * 96), atol=1e-4))
        self.assertTrue(torch.allclose(block.std(0), torch.ones(4 * 96), atol=1e-3))

    def test_frame_token_dropout_keeps_the_functionals_tokens(self):
        cfg = ModelConfig(frame_token_dropout=1.0)
        model = EmotionModel(cfg).train()
        frames = torch.randn(2, 50, model.acoustic.frontend.dim)
        _, mask = model.acoustic.encode_frames(frames, torch.ones(2, 50))
        self.assertTrue(bool((mask[:, : cfg.stats_tokens] == 1).all()))
        self.assertEqual(float(mask[:, cfg.stats_tokens:].sum()), 0.0)
        _, mask = model.eval().acoustic.encode_frames(frames, torch.ones(2, 50))
        self.assertTrue(bool((mask == 1).all()))

    def test_voice_perturbation_and_band_masks_act_in_training_only(self):
        for cfg in (ModelConfig(speaker_warp=0.1, speaker_pitch=3.0, time_masks=0, dropout=0.0, stats_dropout=0.0),
                    ModelConfig(freq_masks=2, time_masks=0, dropout=0.0, stats_dropout=0.0)):
            with self.subTest(cfg=cfg):
                self.check_training_only(cfg)

    def check_training_only(self, cfg: ModelConfig):
        model = EmotionModel(cfg)
        plain = EmotionModel(ModelConfig(time_masks=0, dropout=0.0, stats_dropout=0.0))
        plain.load_state_dict(model.state_dict())
        torch.manual_seed(0)
        waveform = torch.randn(2, 16000) * 0.1
        frames, mask = model.acoustic.frontend(waveform, torch.tensor([16000, 16000]))
        model.eval(), plain.eval()
        self.assertTrue(torch.equal(model.acoustic.encode_frames(frames, mask)[0], plain.acoustic.encode_frames(frames, mask)[0]))
        model.train(), plain.train()
        self.assertFalse(torch.allclose(model.acoustic.encode_frames(frames, mask)[0], plain.acoustic.encode_frames(frames, mask)[0]))


if __name__ == "__main__":
    unittest.main()
