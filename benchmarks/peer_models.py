"""Two peers' per-frame networks, rebuilt here with random weights, to time them on this CPU.

    from peer_models import fomm_frame, liveportrait_frame   # used by bench_generate.py --peers

Speed needs only the architecture, not the weights. The layer counts and channel widths are the
published ones: First Order Motion Model's vox-256 config (keypoint detector hourglass 32/1024,
5 blocks, 10 keypoints at 1/4 scale; dense motion hourglass 64/1024, 5 blocks; generator 64/512,
2 down blocks, 6 residual blocks, occlusion map) and LivePortrait's model config (appearance
feature volume 32 x 16 x 64 x 64 with 6 3-D residual blocks; ConvNeXt-V2-tiny motion extractor,
21 keypoints; 3-D dense motion hourglass 32/1024, 5 blocks, compress 4; SPADE decoder with 6
middle blocks and 2x pixel shuffle to 512 px). Written from those descriptions; nothing is
copied from either project. Each `*_frame` function returns a callable that makes one output
frame from a driving frame, with the source's per-photo work done once beforehand, as a
talking-head video needs it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


# -- shared 2-D / 3-D blocks --------------------------------------------------------------------
def conv_bn(cin: int, cout: int, k: int = 3, dims: int = 2) -> nn.Sequential:
    conv, norm = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv3d, nn.BatchNorm3d)
    return nn.Sequential(conv(cin, cout, k, padding=k // 2), norm(cout), nn.ReLU())


class Hourglass(nn.Module):
    """U-Net of `blocks` down (conv-BN-ReLU, 2x pool) and up (2x upsample, conv-BN-ReLU) blocks
    with skips; channels min(max_features, expansion * 2**(i+1)). 3-D pools only H and W."""

    def __init__(self, expansion: int, cin: int, blocks: int, max_features: int, dims: int = 2):
        super().__init__()
        self.dims = dims
        widths = [cin] + [min(max_features, expansion * 2 ** (i + 1)) for i in range(blocks)]
        self.down = nn.ModuleList(conv_bn(widths[i], widths[i + 1], dims=dims) for i in range(blocks))
        ups = []
        for i in reversed(range(blocks)):
            cin_up = widths[i + 1] if i == blocks - 1 else 2 * widths[i + 1]
            ups.append(conv_bn(cin_up, widths[i] if i else expansion, dims=dims))
        self.up = nn.ModuleList(ups)
        self.out_channels = expansion + cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = (lambda t: F.avg_pool2d(t, 2)) if self.dims == 2 else (lambda t: F.avg_pool3d(t, (1, 2, 2)))
        scale = 2 if self.dims == 2 else (1, 2, 2)
        skips = [x]
        for block in self.down:
            skips.append(pool(block(skips[-1])))
        out = skips.pop()
        for block in self.up:
            out = torch.cat([F.interpolate(block(F.interpolate(out, scale_factor=scale)), size=skips[-1].shape[2:]), skips.pop()], 1)
        return out


class ResBlock(nn.Module):
    def __init__(self, channels: int, dims: int = 2):
        super().__init__()
        conv, norm = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv3d, nn.BatchNorm3d)
        self.body = nn.Sequential(norm(channels), nn.ReLU(), conv(channels, channels, 3, padding=1),
                                  norm(channels), nn.ReLU(), conv(channels, channels, 3, padding=1))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def grid(h: int, w: int, d: int | None = None) -> torch.Tensor:
    """Identity sampling grid in [-1, 1]: (1, H, W, 2) or (1, D, H, W, 3)."""
    axes = [torch.linspace(-1, 1, n) for n in ((d, h, w) if d else (h, w))]
    mesh = torch.meshgrid(*axes, indexing="ij")
    return torch.stack(mesh[::-1], -1)[None]


# -- First Order Motion Model (vox-256) ---------------------------------------------------------
class FommKeypoints(nn.Module):
    def __init__(self, num_kp: int = 10):
        super().__init__()
        self.net = Hourglass(32, 3, 5, 1024)
        self.kp = nn.Conv2d(self.net.out_channels, num_kp, 7, padding=3)
        self.jacobian = nn.Conv2d(self.net.out_channels, 4 * num_kp, 7, padding=3)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """image (B, 3, 256, 256) -> keypoints (B, K, 2) in [-1, 1], jacobians (B, K, 2, 2)."""
        features = self.net(F.interpolate(image, scale_factor=0.25, mode="bilinear"))
        heat = torch.softmax(self.kp(features).flatten(2) / 0.1, -1).view(image.shape[0], -1, 64, 64)
        kp = (heat[..., None] * grid(64, 64)[:, None]).sum((2, 3))
        jac = (heat[:, :, None] * self.jacobian(features).view(image.shape[0], -1, 4, 64, 64)).sum((3, 4))
        return kp, jac.view(image.shape[0], -1, 2, 2)


class FommDenseMotion(nn.Module):
    def __init__(self, num_kp: int = 10):
        super().__init__()
        self.num_kp = num_kp
        self.net = Hourglass(64, (num_kp + 1) * 4, 5, 1024)
        self.mask = nn.Conv2d(self.net.out_channels, num_kp + 1, 7, padding=3)
        self.occlusion = nn.Conv2d(self.net.out_channels, 1, 7, padding=3)

    def forward(self, source: torch.Tensor, kp_s, kp_d) -> tuple[torch.Tensor, torch.Tensor]:
        small = F.interpolate(source, scale_factor=0.25, mode="bilinear")  # (B, 3, 64, 64)
        b, k = small.shape[0], self.num_kp
        base = grid(64, 64).expand(b, -1, -1, -1)
        (kp_s_pos, jac_s), (kp_d_pos, jac_d) = kp_s, kp_d
        shift = base[:, None] - kp_d_pos[:, :, None, None]  # (B, K, 64, 64, 2)
        affine = jac_s @ torch.inverse(jac_d)
        sparse = torch.einsum("bkij,bkhwj->bkhwi", affine, shift) + kp_s_pos[:, :, None, None]
        motions = torch.cat([base[:, None], sparse], 1)  # (B, K+1, 64, 64, 2)
        deformed = F.grid_sample(small.repeat_interleave(k + 1, 0), motions.flatten(0, 1), align_corners=True).view(b, k + 1, 3, 64, 64)
        heat = torch.exp(-(shift**2).sum(-1) / 0.02) - torch.exp(-((base[:, None] - kp_s_pos[:, :, None, None]) ** 2).sum(-1) / 0.02)
        heat = torch.cat([torch.zeros_like(heat[:, :1]), heat], 1)[:, :, None]
        features = self.net(torch.cat([heat, deformed], 2).flatten(1, 2))
        mask = torch.softmax(self.mask(features), 1)
        flow = (mask[..., None] * motions).sum(1)
        return flow, torch.sigmoid(self.occlusion(features))


class FommGenerator(nn.Module):
    def __init__(self, num_kp: int = 10):
        super().__init__()
        self.motion = FommDenseMotion(num_kp)
        self.first = conv_bn(3, 64, 7)
        self.down = nn.Sequential(conv_bn(64, 128), nn.AvgPool2d(2), conv_bn(128, 256), nn.AvgPool2d(2))
        self.bottleneck = nn.Sequential(*[ResBlock(256) for _ in range(6)])
        self.up = nn.Sequential(nn.Upsample(scale_factor=2), conv_bn(256, 128), nn.Upsample(scale_factor=2), conv_bn(128, 64))
        self.final = nn.Conv2d(64, 3, 7, padding=3)

    def forward(self, source: torch.Tensor, kp_s, kp_d) -> torch.Tensor:
        """source (B, 3, 256, 256) in [0, 1] -> the frame (B, 3, 256, 256) in [0, 1]."""
        flow, occlusion = self.motion(source, kp_s, kp_d)
        features = F.grid_sample(self.down(self.first(source)), flow, align_corners=True) * occlusion
        return torch.sigmoid(self.final(self.up(self.bottleneck(features))))


def fomm_frame(size: int = 256):
    """One FOMM frame per call (driving keypoints, dense motion, generator), source keypoints once."""
    detector, generator = FommKeypoints().eval(), FommGenerator().eval()
    source = torch.rand(1, 3, size, size)
    with torch.no_grad():
        kp_source = detector(source)

    def frame(driving: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return generator(source, kp_source, detector(driving))

    return frame


# -- LivePortrait -------------------------------------------------------------------------------
class ConvNeXtBlock(nn.Module):
    """Depth-wise 7x7, LayerNorm, 4x MLP with global response normalisation (ConvNeXt V2)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.up, self.down = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.gamma, self.beta = nn.Parameter(torch.zeros(4 * dim)), nn.Parameter(torch.zeros(4 * dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.gelu(self.up(self.norm(self.dw(x).permute(0, 2, 3, 1))))
        g = y.norm(dim=(1, 2), keepdim=True)
        y = y + self.gamma * (y * (g / (g.mean(-1, keepdim=True) + 1e-6))) + self.beta
        return x + self.down(y).permute(0, 3, 1, 2)


class MotionExtractor(nn.Module):
    """ConvNeXt-V2 tiny (depths 3, 3, 9, 3; dims 96..768) with the keypoint/pose/expression heads."""

    def __init__(self, num_kp: int = 21):
        super().__init__()
        dims, depths = (96, 192, 384, 768), (3, 3, 9, 3)
        stages = [nn.Conv2d(3, dims[0], 4, stride=4)]
        for i, (dim, depth) in enumerate(zip(dims, depths)):
            if i:
                stages.append(nn.Conv2d(dims[i - 1], dim, 2, stride=2))
            stages += [ConvNeXtBlock(dim) for _ in range(depth)]
        self.body = nn.Sequential(*stages)
        self.head = nn.Linear(768, num_kp * 3 + 66 * 3 + 3 + num_kp * 3 + 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(image).mean((2, 3)))


class AppearanceVolume(nn.Module):
    """Source (B, 3, 256, 256) -> feature volume (B, 32, 16, 64, 64)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(conv_bn(3, 64, 7), conv_bn(64, 128), nn.AvgPool2d(2), conv_bn(128, 256), nn.AvgPool2d(2),
                                 nn.Conv2d(256, 512, 1))  # fmt: skip
        self.res = nn.Sequential(*[ResBlock(32, dims=3) for _ in range(6)])

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.res(self.net(image).view(image.shape[0], 32, 16, 64, 64))


class Warping3d(nn.Module):
    """3-D dense motion from 21 keypoint pairs, the volume warped, occlusion, back to 2-D (256 ch)."""

    def __init__(self, num_kp: int = 21):
        super().__init__()
        self.num_kp = num_kp
        self.compress = nn.Conv3d(32, 4, 1)
        self.net = Hourglass(32, (num_kp + 1) * 5, 5, 1024, dims=3)
        self.mask = nn.Conv3d(self.net.out_channels, num_kp + 1, 7, padding=3)
        self.occlusion = nn.Conv2d(self.net.out_channels * 16, 1, 7, padding=3)
        self.third = nn.Sequential(nn.Conv2d(512, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU())
        self.fourth = nn.Conv2d(256, 256, 1)

    def forward(self, volume: torch.Tensor, kp_s: torch.Tensor, kp_d: torch.Tensor) -> torch.Tensor:
        b, k = volume.shape[0], self.num_kp
        base = grid(64, 64, 16).expand(b, -1, -1, -1, -1)  # (B, 16, 64, 64, 3)
        sparse = base[:, None] - kp_d[:, :, None, None, None] + kp_s[:, :, None, None, None]
        motions = torch.cat([base[:, None], sparse], 1)  # (B, K+1, 16, 64, 64, 3)
        small = self.compress(volume)
        deformed = F.grid_sample(small.repeat_interleave(k + 1, 0), motions.flatten(0, 1), align_corners=False)
        deformed = deformed.view(b, k + 1, 4, 16, 64, 64)
        heat = torch.exp(-((base[:, None] - kp_d[:, :, None, None, None]) ** 2).sum(-1) / 0.01)
        heat = torch.cat([torch.zeros_like(heat[:, :1]), heat], 1)[:, :, None]
        features = self.net(torch.cat([heat, deformed], 2).flatten(1, 2))
        mask = torch.softmax(self.mask(features), 1)
        flow = (mask[..., None] * motions).sum(1)
        occlusion = torch.sigmoid(self.occlusion(features.flatten(1, 2)))
        warped = F.grid_sample(volume, flow, align_corners=False).flatten(1, 2)  # (B, 512, 64, 64)
        return self.fourth(self.third(warped)) * occlusion


class Spade(nn.Module):
    def __init__(self, channels: int, label: int = 256):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels)
        self.shared = nn.Sequential(nn.Conv2d(label, 128, 3, padding=1), nn.ReLU())
        self.gamma, self.beta = nn.Conv2d(128, channels, 3, padding=1), nn.Conv2d(128, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        h = self.shared(F.interpolate(seg, size=x.shape[2:]))
        return self.norm(x) * (1 + self.gamma(h)) + self.beta(h)


class SpadeBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        middle = min(cin, cout)
        self.n0, self.c0 = Spade(cin), nn.Conv2d(cin, middle, 3, padding=1)
        self.n1, self.c1 = Spade(middle), nn.Conv2d(middle, cout, 3, padding=1)
        self.skip = (Spade(cin), nn.Conv2d(cin, cout, 1, bias=False)) if cin != cout else None
        if self.skip:
            self.skip_norm, self.skip_conv = self.skip

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        y = self.c1(F.leaky_relu(self.n1(self.c0(F.leaky_relu(self.n0(x, seg), 0.2)), seg), 0.2))
        return y + (self.skip_conv(self.skip_norm(x, seg)) if self.skip else x)


class SpadeDecoder(nn.Module):
    """Warped features (B, 256, 64, 64) -> image (B, 3, 512, 512): 6 middle blocks at 512
    channels, two upsampling blocks, 2x pixel shuffle."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Conv2d(256, 512, 3, padding=1)
        self.middle = nn.ModuleList(SpadeBlock(512, 512) for _ in range(6))
        self.up0, self.up1 = SpadeBlock(512, 256), SpadeBlock(256, 64)
        self.out = nn.Conv2d(64, 3 * 4, 3, padding=1)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        x = self.fc(feature)
        for block in self.middle:
            x = block(x, feature)
        x = self.up1(F.interpolate(self.up0(F.interpolate(x, scale_factor=2), feature), scale_factor=2), feature)
        return torch.sigmoid(F.pixel_shuffle(self.out(F.leaky_relu(x, 0.2)), 2))


def liveportrait_frame(size: int = 256):
    """One LivePortrait frame per call (motion of the driving frame, 3-D warping, SPADE decoder
    to 2 * size), the source's appearance volume and keypoints once."""
    extractor, appearance, warping, decoder = MotionExtractor().eval(), AppearanceVolume().eval(), Warping3d().eval(), SpadeDecoder().eval()
    source = torch.rand(1, 3, size, size)
    with torch.no_grad():
        volume, kp_source = appearance(source), torch.tanh(extractor(source)[:, :63]).view(1, 21, 3)

    def frame(driving: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            kp_driving = torch.tanh(extractor(driving)[:, :63]).view(1, 21, 3)
            return decoder(warping(volume, kp_source, kp_driving))

    return frame
