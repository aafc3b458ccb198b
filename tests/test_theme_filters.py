"""The theme's template filters: photo runs become a gallery grid, videos get a visible title,
internal tags are dropped, the generated banner pattern is stable."""

from types import SimpleNamespace

from builder.render.theme import banner_variant, gallery, public_tags

PIC = ('<div class="media"><picture><source type="image/webp" srcset="p{n}-480.webp 480w, p{n}-1600.webp 1600w" '
       'sizes="(max-width: 960px) 100vw, 960px"><img src="p{n}-960.jpg" srcset="p{n}-480.jpg 480w, p{n}-1600.jpg 1600w, '
       'p{n}-960.jpg 960w" sizes="(max-width: 960px) 100vw, 960px" width="960" height="640" alt="作品{n}"></picture></div>')


def test_a_run_of_photos_with_captions_becomes_one_grid_of_figures():
    html = "<h2>展出作品</h2>\n" + "\n".join(PIC.format(n=n) + f"\n<p><strong>作品{n}</strong>　说明{n}。</p>" for n in (1, 2, 3))
    out = str(gallery(html + "\n<p>结束语。</p>"))
    assert out.count('<div class="gallery-grid">') == 1 and out.count('<figure class="gallery-item">') == 3
    assert '<figcaption><strong>作品2</strong>　说明2。</figcaption>' in out
    assert 'href="p3-1600.jpg"' in out  # the widest rendition, whatever the srcset order
    assert 'aria-label="查看大图：作品1"' in out and "data-lightbox" in out
    assert 'sizes="(max-width: 600px) 100vw, 320px"' in out  # grid cells, not full-width images
    assert out.endswith("<p>结束语。</p>") and "<h2>展出作品</h2>" in out


def test_the_photographer_of_a_photo_is_credited_in_its_caption():
    html = PIC.format(n=1).replace("<picture>", '<picture data-credit="王晓明">') + "\n<p>说明。</p>" + PIC.format(n=2)
    out = str(gallery(html))
    assert '<figcaption>说明。<span class="media-credit">摄影：王晓明</span></figcaption>' in out
    assert out.count("media-credit") == 1


def test_a_lone_photo_stays_as_it_is_and_text_between_photos_breaks_the_run():
    one = PIC.format(n=1) + "\n<p>说明。</p>"
    assert str(gallery(one)) == one
    two_apart = PIC.format(n=1) + "<h3>另一部分</h3>" + PIC.format(n=2)
    assert "gallery-grid" not in str(gallery(two_apart))


def test_a_paragraph_holding_another_photo_is_not_taken_as_a_caption():
    html = PIC.format(n=1) + PIC.format(n=2)
    out = str(gallery(html))
    assert out.count("gallery-item") == 2 and "<figcaption>作品1</figcaption>" in out  # alt text as caption


def test_a_video_gets_its_title_as_a_caption_and_portrait_videos_are_marked():
    video = ('<div class="media"><video controls width="360" height="640" aria-label="第四集　上山">'
             '<source src="ep04/720p.mp4" type="video/mp4"></video></div>')
    out = str(gallery(video))
    assert '<figure class="media media-video media-portrait">' in out
    assert '<figcaption class="media-caption">第四集　上山</figcaption>' in out
    landscape = video.replace('width="360" height="640"', 'width="1280" height="720"')
    assert "media-portrait" not in str(gallery(landscape))


def test_html_without_media_is_untouched():
    assert str(gallery("<p>正文</p>")) == "<p>正文</p>"
    assert str(gallery("")) == ""


def test_internal_tags_are_dropped_and_order_is_kept():
    topic = SimpleNamespace(config=SimpleNamespace(internal_tags=["竖屏", "无声动画"]))
    assert public_tags(["测绘", "竖屏", "一线故事"], topic) == ["测绘", "一线故事"]
    assert public_tags(["测绘"], None) == ["测绘"]
    assert public_tags(None, topic) == []


def test_banner_variant_is_stable_and_varies_between_titles():
    assert banner_variant("住有所居") == banner_variant("住有所居")
    assert len({banner_variant(t) for t in ("住有所居", "双公示", "普法", "轨道交通摄影展", "我是规划师", "行政执法公示")}) > 1


def test_a_sidecar_tag_can_be_internal_and_a_photographer_credited():
    from pathlib import Path

    from media_pipeline.catalog import parse_sidecar

    side = parse_sidecar("title: 上山\ntags: [测绘, {name: 竖屏, internal: true}, {name: 一线, internal: false}]\n"
                         "photographer: 王晓明\n", Path("ep04.mp4.yaml"))
    assert side.tags == ("测绘", "竖屏", "一线") and side.internal_tags == ("竖屏",)
    assert side.photographer == "王晓明"


def test_a_malformed_internal_tag_names_the_sidecar_and_shows_the_form():
    from pathlib import Path

    import pytest

    from media_pipeline.catalog import parse_sidecar
    from media_pipeline.errors import MediaError

    with pytest.raises(MediaError) as info:
        parse_sidecar("tags: [{name: 竖屏, internal: 是}]\n", Path("clip.mp4.yaml"))
    assert "clip.mp4.yaml" in str(info.value.path) and "internal: true" in (info.value.hint or "")
